"""The authentication lookup, written out: it runs on every authenticated request.

Building this join with the ORM (``User.objects.select_related("profile")`` filtered on a live
device session) cost longer on each request than PostgreSQL spends running it (docs/benchmark.md
has the figures), so it is a module constant here and its rows are read back into model
instances by column name (:func:`apps.core.sql.model_from_row`). tests/accounts/test_statements.py
runs it beside that queryset on the same data.
"""

from __future__ import annotations

from apps.accounts.models import AuthSession, Profile, User
from apps.core import sql

SESSION_USER = (
    f"SELECT {sql.model_columns(User, 'u', prefix='u')}, "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    f"{sql.model_columns(Profile, 'p', prefix='p')} "
    f"FROM {sql.table(User)} u "
    f"JOIN {sql.table(AuthSession)} s ON s.user_id = u.id "
    f"LEFT JOIN {sql.table(Profile)} p ON p.user_id = u.id "
    "WHERE u.id = %(user_id)s AND u.is_active AND s.id = %(session_id)s "
    "AND s.revoked_at IS NULL AND s.expires_at > %(now)s"
)
"""The active user ``user_id`` whose device session ``session_id`` is alive at ``now`` (not
revoked, not past its absolute expiry), with the profile (``p.*`` NULL without one): columns
``u.<attname>`` and ``p.<attname>``, at most one row."""
