"""The study engine's one statement written out (apps/core/sql.py): the current streak.

The ORM cannot walk back day by day from today and stop at the first day without study; read
with the ORM, the current streak costs every study day of the candidate's history (a year is
365 rows) and a loop in Python. Written as a recursive query it reads one index entry per day of
the streak and one more, so the dashboard's cost does not grow with a long history
(tests/dashboard/test_cost.py). tests/study/test_statements.py runs it beside
:func:`apps.study.selectors.streaks.streak_runs` over the ORM's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.analytics.models import DailyActivity
from apps.core import sql

MAX_STREAK_DAYS = 3660
"""How far back a streak is followed (ten years): the recursion always ends."""

# A study day is a day of the candidate's calendar (DailyActivity.date, their local day) with
# at least one answered question; the one rule, also in selectors.streaks.STUDY_DAY.
CURRENT_STREAK = (
    "WITH RECURSIVE run(day) AS ("  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    "SELECT %(yesterday)s::date WHERE EXISTS ("
    f"SELECT 1 FROM {sql.table(DailyActivity)} "
    "WHERE user_id = %(user_id)s AND date = %(yesterday)s::date AND answered > 0) "
    "UNION ALL "
    "SELECT run.day - 1 FROM run WHERE run.day > %(yesterday)s::date - %(max_days)s::integer "
    f"AND EXISTS (SELECT 1 FROM {sql.table(DailyActivity)} "
    "WHERE user_id = %(user_id)s AND date = run.day - 1 AND answered > 0)"
    ") "
    "SELECT (SELECT count(*) FROM run) AS days_before_today, "
    f"EXISTS (SELECT 1 FROM {sql.table(DailyActivity)} "
    "WHERE user_id = %(user_id)s AND date = %(today)s::date AND answered > 0) AS studied_today"
)


@dataclass(frozen=True)
class CurrentStreakRow:
    """The row of :data:`CURRENT_STREAK`: the unbroken study days ending yesterday, and whether
    today is one."""

    days_before_today: int
    studied_today: bool
