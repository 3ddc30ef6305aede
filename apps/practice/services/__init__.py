"""Practice mode: the only code that writes practice data.

- :mod:`.sessions`: drawing a reproducible question set for a session, completing it;
- :mod:`.answering`: grading and recording an answer, its review of the candidate's
  spaced-repetition card, and reporting it to the learning record, in one transaction;
- :mod:`.flags`: the candidate's flags and private notes on questions;
- :mod:`.reports`: problem reports on questions and the editors' handling of them;
- :mod:`.fitting`: each candidate's own FSRS weights, fitted nightly from their reviews.

The public names are re-exported here, so callers import them from ``apps.practice.services``.
"""

from apps.practice.services.answering import (
    AnswerFeedback,
    max_counted_time_sec,
    record_practice_answer,
    schedule_review,
)
from apps.practice.services.fitting import (
    MIN_REVIEWS_TO_FIT,
    FitOutcome,
    fit_scheduler_parameters,
    learners_to_fit,
)
from apps.practice.services.flags import remove_question_flag, set_question_flag
from apps.practice.services.reports import (
    reopen_question_reports,
    report_question,
    resolve_question_reports,
)
from apps.practice.services.sessions import (
    MAX_QUESTIONS_PER_SESSION,
    complete_practice_session,
    create_practice_session,
    draw_question_ids,
    new_seed,
)
from apps.questions.grading import MAX_SELECTED_OPTIONS

__all__ = [
    "MAX_QUESTIONS_PER_SESSION",
    "MAX_SELECTED_OPTIONS",
    "MIN_REVIEWS_TO_FIT",
    "AnswerFeedback",
    "FitOutcome",
    "complete_practice_session",
    "create_practice_session",
    "draw_question_ids",
    "fit_scheduler_parameters",
    "learners_to_fit",
    "max_counted_time_sec",
    "new_seed",
    "record_practice_answer",
    "remove_question_flag",
    "reopen_question_reports",
    "report_question",
    "resolve_question_reports",
    "schedule_review",
    "set_question_flag",
]
