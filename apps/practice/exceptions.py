"""Practice's named rule breaks; the shared handler turns them into the error envelope."""

from __future__ import annotations

from apps.core.exceptions import Conflict, NotFound, ValidationFailed


class SessionNotFound(NotFound):
    default_message = "Practice session not found."


class NoQuestionsAvailable(Conflict):
    code = "no_questions"
    default_message = "No published questions match this selection."


class QuestionNotInSession(ValidationFailed):
    code = "question_not_in_session"
    default_message = "This question is not part of the session."


class QuestionUnavailable(Conflict):
    code = "question_unavailable"
    default_message = "This question has been withdrawn and can no longer be answered."


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = "This question has already been answered in this session."


class SessionCompleted(Conflict):
    code = "session_completed"
    default_message = "The session is completed; no more answers are accepted."


class AlreadyReported(Conflict):
    code = "already_reported"
    default_message = "You already have an open report on this question."


class FlagNotFound(NotFound):
    default_message = "No flag or note on this question."


class QuestionInOpenExam(Conflict):
    code = "question_in_open_exam"
    default_message = (
        "This question is in an exam you are sitting; answer it there. It can be practised "
        "once the exam is over."
    )


class NothingDueToday(Conflict):
    code = "nothing_due_today"
    default_message = (
        "Nothing is left for today: no review is due and today's new questions are done (or "
        "the daily limits are reached). Come back tomorrow, or practise freely in another mode."
    )
