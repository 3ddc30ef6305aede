"""Exam mode: starting a timed session, saving answers against the server's clock, and scoring
a session exactly once (by the candidate, at the deadline by the periodic task, or on the next
read of an expired session).

Every write to a session happens under a row lock on that session (``SELECT ... FOR UPDATE``),
so answer saves and the submission are serialised: a save either lands before the scoring (and
counts) or sees the submitted state (and is refused). The scoring then feeds the learning record
through :func:`apps.questions.learning.publish_answers` in the same transaction, so the record
is written exactly once or not at all.

Drawing a mock (``drawing.py``) puts a candidate's unseen questions first and spreads each
category like the bank; a paper template follows its paper's standard. Fixed forms
(``forms.py``) freeze one draw for everyone. Integrity signals (``integrity.py``) note where a
session was sat from and what the browser reports, for examiners: signals, never proof.
"""

from apps.exams.services.answering import AnswerInput, save_exam_answers
from apps.exams.services.forms import publish_fixed_form
from apps.exams.services.integrity import ClientInfo, note_sitting, record_session_event
from apps.exams.services.scoring import (
    SubmitTrigger,
    percent,
    submit_exam_session,
    submit_expired_sessions,
    submit_if_past_deadline,
)
from apps.exams.services.starting import StartedSession, draw_exam_paper, start_exam_session

__all__ = [
    "AnswerInput",
    "ClientInfo",
    "StartedSession",
    "SubmitTrigger",
    "draw_exam_paper",
    "note_sitting",
    "percent",
    "publish_fixed_form",
    "record_session_event",
    "save_exam_answers",
    "start_exam_session",
    "submit_exam_session",
    "submit_expired_sessions",
    "submit_if_past_deadline",
]
