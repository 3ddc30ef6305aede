"""Reads of the study engine: today's work, memory, the plan to the exam date and streaks.

Public for other apps (recommendations, dashboard, notifications):
:func:`study_today`, :func:`today_block`, :func:`plan_for`, :func:`memory_by_category`,
:func:`mean_retrievability_by_category`, :func:`unseen_remaining_by_category`,
:func:`current_streak_days`, :func:`streak_of`.
"""

from apps.study.selectors.memory import (
    CardRecall,
    CategoryMemory,
    mean_retrievability_by_category,
    memory_by_category,
    memory_cards,
    recall_of,
)
from apps.study.selectors.plan import (
    FORECAST_DAYS,
    CategoryPlan,
    ForecastDay,
    StudyPlan,
    plan_for,
    review_forecast,
    unseen_remaining_by_category,
)
from apps.study.selectors.streaks import (
    STUDY_DAY,
    Streak,
    current_streak_days,
    streak_of,
    streak_runs,
    study_days,
)
from apps.study.selectors.today import (
    StudyStreak,
    StudyToday,
    TodayBlock,
    study_today,
    today_block,
)

__all__ = [
    "FORECAST_DAYS",
    "STUDY_DAY",
    "CardRecall",
    "CategoryMemory",
    "CategoryPlan",
    "ForecastDay",
    "Streak",
    "StudyPlan",
    "StudyStreak",
    "StudyToday",
    "TodayBlock",
    "current_streak_days",
    "mean_retrievability_by_category",
    "memory_by_category",
    "memory_cards",
    "plan_for",
    "recall_of",
    "review_forecast",
    "streak_of",
    "streak_runs",
    "study_days",
    "study_today",
    "today_block",
    "unseen_remaining_by_category",
]
