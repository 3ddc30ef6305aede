"""Reads for exam mode, by responsibility: templates, sessions (the deadline rule, lookups,
saved answers), papers (what a candidate sees), history (past sessions, the dashboard, the
export) and held_out (the questions of open exams, for practice through a port). Nothing here
reveals the answer key of a session that is still open: only :func:`exam_review` (submitted
sessions) carries correct options and explanations.

The reads on the hot paths run querysets compiled once, kept in apps/exams/statements.py."""

from apps.exams.selectors.history import exam_history, last_exam_summary, personal_data
from apps.exams.selectors.papers import exam_paper, exam_result, exam_review
from apps.exams.selectors.quality import answer_selections
from apps.exams.selectors.sessions import (
    deadline_from,
    exam_session_for,
    expired_open_session_ids,
    grace,
    is_past_deadline,
    open_exam_session,
    saved_answers,
)
from apps.exams.selectors.templates import (
    Availability,
    active_exam_template,
    active_exam_templates,
    fixed_question_ids,
    fixed_template_availability,
    startable_exam_template,
    template_availability,
)
from apps.exams.statements import SavedAnswer

__all__ = [
    "Availability",
    "SavedAnswer",
    "active_exam_template",
    "active_exam_templates",
    "answer_selections",
    "deadline_from",
    "exam_history",
    "exam_paper",
    "exam_result",
    "exam_review",
    "exam_session_for",
    "expired_open_session_ids",
    "fixed_question_ids",
    "fixed_template_availability",
    "grace",
    "is_past_deadline",
    "last_exam_summary",
    "open_exam_session",
    "personal_data",
    "saved_answers",
    "startable_exam_template",
    "template_availability",
]
