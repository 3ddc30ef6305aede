"""Reads of the audit trail: the rows staff filter in the admin and the CSV they export."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from apps.audit.models import AuditEvent

CSV_COLUMNS = (
    "id",
    "occurred_at",
    "kind",
    "action",
    "actor_id",
    "actor_label",
    "target_type",
    "target_id",
    "subject_user_id",
    "ip_address",
    "request_id",
    "before",
    "after",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def audit_events() -> QuerySet[AuditEvent]:
    """Every event, newest first, with the columns the admin and the CSV show."""
    return AuditEvent.objects.order_by("-occurred_at", "-id")


def events_for_subject(*, user_id: int) -> QuerySet[AuditEvent]:
    """Events about one user (as the subject), newest first."""
    return audit_events().filter(subject_user_id=user_id)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, default=str)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        text = "'" + text
    return text


def audit_csv_rows(events: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[list[str]]:
    """The header, then one row per event. Reads the queryset in chunks (server-side cursor on
    PostgreSQL), so an export of the whole trail never sits in memory. Cells that a spreadsheet
    would run as a formula are prefixed with a quote."""
    yield list(CSV_COLUMNS)
    rows: Iterable[tuple[Any, ...]] = events.values_list(*CSV_COLUMNS).iterator(
        chunk_size=chunk_size
    )
    for row in rows:
        yield [_cell(value) for value in row]
