"""Admin lists of the tables that grow without bound (the answer log, practice attempts).

Django's change list costs, on every page, an exact ``COUNT(*)`` of the filtered rows (the
paginator), a ``SELECT DISTINCT date_trunc(...)`` over the whole table when a date hierarchy is
set, and a sort of every row by the model's ordering when no index serves it. On ten million
answers those took 6 to 10 seconds a page (tier M); on a national cohort's billions they never
finish. Here the count stops at :data:`COUNT_CAP` (the page says "at least"), the list is newest
first by ``id`` (each partition's primary key, read backwards and merged: a page reads a page of
rows), and no date hierarchy is offered.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000
"""Rows counted at most for a change list's paginator (100 pages of 100)."""


class CappedCountPaginator(Paginator):
    """A paginator whose count reads at most ``COUNT_CAP + 1`` rows: ``count`` is exact below
    the cap and ``COUNT_CAP`` at or above it, with :attr:`capped` saying which."""

    object_list: QuerySet[Any]

    @cached_property
    def _counted(self) -> int:
        ids = self.object_list.order_by().values("pk")[: COUNT_CAP + 1]
        return ids.count()  # SELECT count(*) FROM (SELECT ... LIMIT cap + 1)

    @cached_property
    def count(self) -> int:
        return min(self._counted, COUNT_CAP)

    @cached_property
    def capped(self) -> bool:
        return self._counted > COUNT_CAP


class LargeTableAdmin:
    """Mixed into a ModelAdmin of a table that grows without bound (see the module's text); its
    template ``admin/large_table_pagination.html`` is linked per model as
    ``admin/<app>/<model>/pagination.html``."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    ordering = ("-id",)
    date_hierarchy = None
