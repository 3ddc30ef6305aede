"""Reads of practice data. Everything a user can see is fetched through a queryset scoped to that
user, so another user's session or flag is simply not found.

- :mod:`.sessions`: the user's sessions, one session's questions and its summary;
- :mod:`.history`: practice across sessions (per category, the last practice);
- :mod:`.flags`: flags and private notes;
- :mod:`.pool`: what a new session draws from;
- :mod:`.review`: spaced repetition, what is due;
- :mod:`.export`: the GDPR export;
- :mod:`.quality`: what item analysis reads (options picked, open reports).

Public for other apps: :func:`last_practice_summary` and :func:`flagged_question_ids`
(analytics, dashboard), :func:`review_queue` (what is due for spaced repetition),
:func:`today_counts` and :func:`card_memories` (today's work within the daily limits, each
card's retrievability: the study app),
:func:`personal_data` (the GDPR export). The public names are re-exported here, so callers
import them from ``apps.practice.selectors``.
"""

from apps.practice.selectors.export import personal_data
from apps.practice.selectors.flags import flag_for, flagged_question_ids, flags_for
from apps.practice.selectors.history import (
    LAST_ANSWERED_SESSION,
    CategoryPractice,
    LastPracticeSummary,
    last_practice_summary,
    practice_by_category,
)
from apps.practice.selectors.pool import (
    last_answered_wrong_question_ids,
    practice_pool,
    practised_question_ids,
)
from apps.practice.selectors.quality import (
    attempt_selections,
    open_report_count,
    open_report_counts,
    open_reports_of,
    open_reports_overview,
)
from apps.practice.selectors.review import (
    CardMemory,
    ReviewQueue,
    card_memories,
    cards_of,
    due_question_ids,
    review_queue,
    scheduler_of,
)
from apps.practice.selectors.sessions import (
    AnsweredFeedback,
    CategoryScore,
    SessionQuestion,
    SessionSummary,
    score_percent,
    session_for,
    session_questions,
    session_summary,
    sessions_for,
)
from apps.practice.selectors.today import (
    LocalDay,
    StudySettings,
    TodayCounts,
    done_today,
    local_day,
    new_question_ids,
    study_settings_of,
    today_counts,
)

__all__ = [
    "LAST_ANSWERED_SESSION",
    "AnsweredFeedback",
    "CardMemory",
    "CategoryPractice",
    "CategoryScore",
    "LastPracticeSummary",
    "LocalDay",
    "ReviewQueue",
    "SessionQuestion",
    "SessionSummary",
    "StudySettings",
    "TodayCounts",
    "attempt_selections",
    "card_memories",
    "cards_of",
    "done_today",
    "due_question_ids",
    "flag_for",
    "flagged_question_ids",
    "flags_for",
    "last_answered_wrong_question_ids",
    "last_practice_summary",
    "local_day",
    "new_question_ids",
    "open_report_count",
    "open_report_counts",
    "open_reports_of",
    "open_reports_overview",
    "personal_data",
    "practice_by_category",
    "practice_pool",
    "practised_question_ids",
    "review_queue",
    "scheduler_of",
    "score_percent",
    "session_for",
    "session_questions",
    "session_summary",
    "sessions_for",
    "study_settings_of",
    "today_counts",
]
