"""The candidate's sessions: the list, one session's questions as the candidate sees them,
and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from django.db.models import QuerySet

from apps.practice.exceptions import SessionNotFound
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag
from apps.questions.grading import answer_keys
from apps.questions.models import Question
from apps.questions.selectors import (
    graded_version,
    question_categories,
    questions_for_display,
    version_history,
)
from apps.taxonomy.models import Category


def score_percent(*, correct: int, answered: int) -> int | None:
    """Whole-number percentage of answered questions that were right, rounded half up;
    ``None`` when nothing was answered (a score of 0% would be a claim)."""
    if answered <= 0:
        return None
    return (correct * 200 + answered) // (answered * 2)


# --- Sessions ------------------------------------------------------------------------------


def sessions_for(*, user_id: int) -> QuerySet[PracticeSession]:
    """The user's sessions, newest first."""
    return PracticeSession.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def session_for(*, user_id: int, session_id: int) -> PracticeSession:
    session = PracticeSession.objects.filter(user_id=user_id, id=session_id).first()
    if session is None:
        raise SessionNotFound()
    return session


@dataclass(frozen=True)
class AnsweredFeedback:
    """The caller's answer to a session question, with the key and (if the session includes
    them) the explanation of the version it was graded on (``question_version``)."""

    selected_option_ids: list[int]
    is_correct: bool
    question_version: int
    correct_option_ids: list[int]
    explanation: str | None
    time_spent_sec: int
    answered_at: datetime


@dataclass(frozen=True)
class SessionQuestion:
    """One question of a session as the candidate sees it. ``attempt`` (and with it the answer
    key) is present only for questions already answered in this session."""

    position: int
    question: Question
    is_available: bool
    is_flagged: bool
    attempt: AnsweredFeedback | None


def session_questions(*, session: PracticeSession) -> list[SessionQuestion]:
    """The session's questions in drawn order, in a fixed number of queries (the questions with
    options and media, the session's attempts, the snapshots of the versions they were graded
    on, the current key of any answered question never edited since, the user's flags).

    An attempt shows the key and explanation of the version it was graded on, not the
    question's current ones: an editor's later change never appears beside the old grading."""
    questions = questions_for_display(question_ids=session.question_ids)
    attempts = {a.question_id: a for a in PracticeAttempt.objects.filter(session=session)}
    history = version_history(question_ids=list(attempts)) if attempts else {}
    graded = {
        qid: graded_version(history.get(qid, []), number=a.question_version, at=a.answered_at)
        for qid, a in attempts.items()
    }
    unversioned = [qid for qid, version in graded.items() if version is None]
    keys = answer_keys(question_ids=unversioned) if unversioned else {}
    flagged = set(
        QuestionFlag.objects.filter(
            user_id=session.user_id, question_id__in=session.question_ids, is_flagged=True
        ).values_list("question_id", flat=True)
    )
    items = []
    for position, question in enumerate(questions, start=1):
        attempt = attempts.get(question.id)
        version = graded.get(question.id)
        explanation = question.explanation if version is None else version.explanation
        items.append(
            SessionQuestion(
                position=position,
                question=question,
                is_available=question.is_published,
                is_flagged=question.id in flagged,
                attempt=None
                if attempt is None
                else AnsweredFeedback(
                    selected_option_ids=list(attempt.selected_option_ids),
                    is_correct=attempt.is_correct,
                    question_version=attempt.question_version,
                    correct_option_ids=(
                        keys.get(question.id, [])
                        if version is None
                        else list(version.correct_option_ids)
                    ),
                    explanation=explanation if session.include_explanations else None,
                    time_spent_sec=attempt.time_spent_sec,
                    answered_at=attempt.answered_at,
                ),
            )
        )
    return items


class CategoryScore(TypedDict):
    category: str
    category_slug: str
    question_count: int
    answered: int
    correct: int
    score_percent: int | None


class SessionSummary(TypedDict):
    id: int
    question_count: int
    answered: int
    correct: int
    incorrect: int
    unanswered: int
    score_percent: int | None
    time_spent_sec: int
    created_at: datetime
    completed_at: datetime | None
    categories: list[CategoryScore]


def session_summary(*, session: PracticeSession) -> SessionSummary:
    """Totals from the session's counters and a per-category breakdown of its questions (the
    category an answer was recorded under, the current one for unanswered questions), in the
    syllabus order. Three queries."""
    per_category: dict[int, dict[str, int]] = {}

    def entry(category_id: int) -> dict[str, int]:
        return per_category.setdefault(
            category_id, {"question_count": 0, "answered": 0, "correct": 0}
        )

    answered_ids: set[int] = set()
    for question_id, category_id, is_correct in PracticeAttempt.objects.filter(
        session=session
    ).values_list("question_id", "category_id", "is_correct"):
        answered_ids.add(question_id)
        row = entry(category_id)
        row["question_count"] += 1
        row["answered"] += 1
        row["correct"] += int(is_correct)
    unanswered = [qid for qid in session.question_ids if qid not in answered_ids]
    if unanswered:
        for category_id in question_categories(question_ids=unanswered).values():
            entry(category_id)["question_count"] += 1
    categories = Category.objects.filter(id__in=list(per_category)).order_by("order", "name")
    return {
        "id": session.id,
        "question_count": session.question_count,
        "answered": session.answered,
        "correct": session.correct,
        "incorrect": session.answered - session.correct,
        "unanswered": max(session.question_count - session.answered, 0),
        "score_percent": score_percent(correct=session.correct, answered=session.answered),
        "time_spent_sec": session.time_spent_sec,
        "created_at": session.created_at,
        "completed_at": session.completed_at,
        "categories": [
            {
                "category": c.name,
                "category_slug": c.slug,
                "question_count": per_category[c.id]["question_count"],
                "answered": per_category[c.id]["answered"],
                "correct": per_category[c.id]["correct"],
                "score_percent": score_percent(
                    correct=per_category[c.id]["correct"], answered=per_category[c.id]["answered"]
                ),
            }
            for c in categories
        ],
    }
