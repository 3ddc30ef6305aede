"""``field__any=[...]``: membership in a list passed as one array parameter.

Django's ``__in`` writes one placeholder per value, so its SQL changes with the list's length
and a statement compiled once (:class:`apps.core.sql.CompiledQuery`) could not be reused.
``= ANY(%s)`` keeps the text fixed whatever the number of ids, and PostgreSQL plans it as it
plans ``IN``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Field, ForeignObject, Lookup

if TYPE_CHECKING:
    _Lookup = Lookup[Any]
else:
    _Lookup = Lookup


@Field.register_lookup
class AnyLookup(_Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


# Relations look their lookups up on ``ForeignObject`` only (not ``Field``), so a foreign key
# (``question_id__any=ids``) needs its own registration.
ForeignObject.register_lookup(AnyLookup)
