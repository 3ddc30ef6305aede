"""The study engine's one statement written out (apps/core/sql.py): the current streak.

The ORM cannot walk back from today and stop at the first day without study; read with the
ORM, the current streak costs every study day of the candidate's history (a year is 365 rows)
and a loop in Python. Written as a recursive query it *gallops*: it counts the study days in a
window ending yesterday of 1 day, then the 2 days before, then 4, 8, ... while each window is
full, and once one is not, halves the window until it is one day (a binary search for the day
the streak began). A streak of n days costs about 2 log2(n) index range scans reading at most
about 3n rows, instead of one probe per day; a candidate with no streak costs one empty probe,
so the dashboard's cost does not grow with a long history (tests/dashboard/test_cost.py).
tests/study/test_statements.py runs it beside :func:`apps.study.selectors.streaks.streak_runs`
over the ORM's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.analytics.models import DailyActivity
from apps.core import sql

MAX_STREAK_DAYS = 3660
"""How far back a streak is followed (ten years): the recursion always ends."""

# A study day is a day of the candidate's calendar (DailyActivity.date, their local day) with
# at least one answered question; the one rule, also in selectors.streaks.STUDY_DAY.
#
# probe(hi, size, total, growing): ``total`` study days are known to run unbroken from
# yesterday back to ``hi + 1``; the next window is the ``size`` days ending at ``hi``. A full
# window adds its days and moves ``hi`` below it (doubling ``size`` while ``growing``); a window
# with a gap ends the growing and halves ``size``. It ends at ``size`` 0, or at the cap.
CURRENT_STREAK = (
    "WITH RECURSIVE probe(hi, size, total, growing) AS ("  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    "SELECT %(yesterday)s::date, 1, 0, true "
    "UNION ALL "
    "SELECT CASE WHEN w.days = p.size THEN p.hi - p.size ELSE p.hi END, "
    "CASE WHEN w.days = p.size AND p.growing THEN p.size * 2 ELSE p.size / 2 END, "
    "p.total + CASE WHEN w.days = p.size THEN p.size ELSE 0 END, "
    "p.growing AND w.days = p.size "
    "FROM probe p CROSS JOIN LATERAL ("
    f"SELECT count(*) AS days FROM {sql.table(DailyActivity)} "
    "WHERE user_id = %(user_id)s AND date > p.hi - p.size AND date <= p.hi AND answered > 0"
    ") w "
    "WHERE p.size > 0 AND p.total < %(max_days)s::integer"
    ") "
    "SELECT least((SELECT max(total) FROM probe), %(max_days)s::integer) AS days_before_today, "
    f"EXISTS (SELECT 1 FROM {sql.table(DailyActivity)} "
    "WHERE user_id = %(user_id)s AND date = %(today)s::date AND answered > 0) AS studied_today"
)


@dataclass(frozen=True)
class CurrentStreakRow:
    """The row of :data:`CURRENT_STREAK`: the unbroken study days ending yesterday, and whether
    today is one."""

    days_before_today: int
    studied_today: bool
