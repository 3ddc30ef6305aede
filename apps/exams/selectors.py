"""Reads for exam mode. Nothing here reveals the answer key of a session that is still open:
only :func:`exam_review` (submitted sessions) carries correct options and explanations."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from apps.core import sql
from apps.core.exceptions import NotFound
from apps.exams.models import (
    BlueprintItem,
    ExamAnswer,
    ExamSession,
    ExamTemplate,
    ExamTemplateQuestion,
    SessionStatus,
    TemplateKind,
)
from apps.questions.grading import answer_keys
from apps.questions.selectors import (
    DisplayQuestion,
    display_questions,
    published_questions,
    questions_for_display,
)


def grace() -> timedelta:
    """How long after ``expires_at`` answers still in flight are accepted."""
    return timedelta(seconds=settings.EXAM_GRACE_SECONDS)


def is_past_deadline(session: ExamSession, *, now: datetime | None = None) -> bool:
    """True once an open session can no longer take answers (deadline plus grace has passed)."""
    return (now or timezone.now()) > session.expires_at + grace()


# --- Templates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    available: bool
    unavailable_reason: str | None = None


def _templates_with_plan() -> QuerySet[ExamTemplate]:
    return ExamTemplate.objects.prefetch_related(
        Prefetch("blueprint_items", queryset=BlueprintItem.objects.select_related("category")),
        Prefetch(
            "fixed_questions",
            queryset=ExamTemplateQuestion.objects.only("id", "template_id", "question_id", "order"),
        ),
    )


def template_availability(templates: Iterable[ExamTemplate]) -> dict[int, Availability]:
    """Whether the bank can fill each template now, in two queries however many templates.

    The templates must come with ``blueprint_items`` (with category) and ``fixed_questions``
    prefetched, as :func:`active_exam_templates` and :func:`active_exam_template` return them.
    """
    templates = list(templates)
    category_ids = {
        item.category_id
        for t in templates
        if t.kind == TemplateKind.BLUEPRINT
        for item in t.blueprint_items.all()
    }
    fixed_ids = {
        row.question_id
        for t in templates
        if t.kind == TemplateKind.FIXED
        for row in t.fixed_questions.all()
    }
    bank: dict[int, int] = {}
    if category_ids:
        bank = dict(
            published_questions()
            .filter(category_id__in=category_ids)
            .values_list("category_id")
            .annotate(n=Count("id"))
            .values_list("category_id", "n")
        )
    published_fixed: set[int] = set()
    if fixed_ids:
        published_fixed = set(
            published_questions().filter(id__in=fixed_ids).values_list("id", flat=True)
        )
    return {t.id: _availability(t, bank, published_fixed) for t in templates}


def fixed_template_availability(
    template: ExamTemplate, listed: Sequence[int], published: Container[int]
) -> Availability:
    """Whether a fixed template can start, given its listed question ids and which of them
    are published."""
    if len(listed) != template.total_questions:
        return Availability(
            False,
            f"The template lists {len(listed)} questions but declares {template.total_questions}.",
        )
    missing = sum(1 for qid in listed if qid not in published)
    if missing:
        return Availability(False, f"{missing} of the template's questions are not published.")
    return Availability(True)


def _availability(
    template: ExamTemplate, bank: dict[int, int], published_fixed: set[int]
) -> Availability:
    if template.kind == TemplateKind.FIXED:
        listed = [row.question_id for row in template.fixed_questions.all()]
        return fixed_template_availability(template, listed, published_fixed)
    items = list(template.blueprint_items.all())
    planned = sum(item.count for item in items)
    if planned != template.total_questions:
        return Availability(
            False,
            f"The blueprint adds up to {planned} questions but the template declares "
            f"{template.total_questions}.",
        )
    for item in items:
        have = bank.get(item.category_id, 0)
        if have < item.count:
            return Availability(
                False,
                f"The question bank has {have} of the {item.count} questions needed from "
                f"{item.category.name}.",
            )
    return Availability(True)


def active_exam_templates() -> list[tuple[ExamTemplate, Availability]]:
    """Active templates with their availability, in a fixed number of queries."""
    templates = list(_templates_with_plan().filter(is_active=True).order_by("paper", "name", "id"))
    availability = template_availability(templates)
    return [(t, availability[t.id]) for t in templates]


def active_exam_template(*, template_id: int) -> ExamTemplate:
    """An active template with its plan prefetched; unknown and inactive ones are not found."""
    template = _templates_with_plan().filter(id=template_id, is_active=True).first()
    if template is None:
        raise NotFound("No such exam template.")
    return template


@cache
def _template_sql(vendor: str) -> str:
    return (
        f"SELECT {sql.columns(ExamTemplate, 't')} FROM {sql.quote(ExamTemplate._meta.db_table)} t "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "WHERE t.id = %s AND t.is_active = %s"
    )


def startable_exam_template(*, template_id: int) -> ExamTemplate:
    """An active template, without its plan (one light statement: what starting a session
    reads first); unknown and inactive ones are not found."""
    row = sql.fetch_one(_template_sql(connection.vendor), [template_id, True])
    if row is None:
        raise NotFound("No such exam template.")
    (template,) = sql.instances_from_row(row, ExamTemplate)
    assert isinstance(template, ExamTemplate)  # nosec B101 # the row is a template's
    return template


@cache
def _fixed_ids_sql(vendor: str) -> str:
    order = sql.quote("order")
    return (
        f"SELECT q.question_id FROM {sql.quote(ExamTemplateQuestion._meta.db_table)} q "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"WHERE q.template_id = %s ORDER BY q.{order}, q.id"
    )


def fixed_question_ids(*, template_id: int) -> list[int]:
    """The question ids a fixed template lists, in the template's order."""
    return [row[0] for row in sql.fetch_all(_fixed_ids_sql(connection.vendor), [template_id])]


# --- Sessions -----------------------------------------------------------------------------------


def exam_session_for(*, user: Any, session_id: int) -> ExamSession:
    """The caller's own session; anybody else's is simply not found."""
    session = (
        ExamSession.objects.select_related("template").filter(id=session_id, user=user).first()
    )
    if session is None:
        raise NotFound("No such exam session.")
    return session


@cache
def _open_session_sql(vendor: str) -> str:
    return (
        f"SELECT {sql.columns(ExamSession, 's')} FROM {sql.quote(ExamSession._meta.db_table)} s "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "WHERE s.user_id = %s AND s.template_id = %s AND s.status = %s"
    )


def open_exam_session(*, user: Any, template: ExamTemplate) -> ExamSession | None:
    """The caller's session of ``template`` still in progress (at most one exists), with the
    template attached."""
    row = sql.fetch_one(
        _open_session_sql(connection.vendor), [user.pk, template.pk, SessionStatus.IN_PROGRESS]
    )
    if row is None:
        return None
    (session,) = sql.instances_from_row(row, ExamSession)
    assert isinstance(session, ExamSession)  # nosec B101 # the row is a session's
    session.template = template
    return session


def expired_open_session_ids(*, user: Any = None, limit: int = 500) -> list[int]:
    """Open sessions whose deadline (plus grace) has passed, oldest deadline first."""
    qs = ExamSession.objects.filter(
        status=SessionStatus.IN_PROGRESS, expires_at__lt=timezone.now() - grace()
    )
    if user is not None:
        qs = qs.filter(user=user)
    return list(qs.order_by("expires_at", "id").values_list("id", flat=True)[:limit])


def exam_history(*, user: Any) -> QuerySet[ExamSession]:
    """The caller's sessions, newest first (one query per page, template name joined)."""
    return (
        ExamSession.objects.filter(user=user)
        .select_related("template")
        .defer("question_ids", "option_order", "result")
        .order_by("-started_at", "-id")
    )


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A saved answer as the candidate's paper and the scoring read it (no model instance: a
    paper has up to 500)."""

    id: int
    question_id: int
    selected_option_ids: list[int]
    flagged: bool
    time_spent_sec: int
    saved_at: datetime


@cache
def _converters(vendor: str, name: str) -> tuple[Any, list[Any]]:
    column = ExamAnswer._meta.get_field(name).cached_col  # type: ignore[union-attr]
    return column, [
        *connection.ops.get_db_converters(column),
        *column.get_db_converters(connection),
    ]


def answer_converter(name: str) -> Any:
    """The ORM's own conversion of an ``ExamAnswer`` column read with written-out SQL (JSON
    text, SQLite's datetimes)."""
    column, converters = _converters(connection.vendor, name)
    if not converters:
        return lambda value: value

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, column, connection)
        return value

    return convert


@cache
def _saved_answers_sql(vendor: str) -> str:
    return (
        "SELECT a.id, a.question_id, a.selected_option_ids, a.flagged, a.time_spent_sec, "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"a.saved_at FROM {sql.quote(ExamAnswer._meta.db_table)} a WHERE a.session_id = %s "
        "ORDER BY a.id"
    )


def saved_answers(*, session_id: int) -> list[SavedAnswer]:
    """Every answer saved in the session, in one statement."""
    selected = answer_converter("selected_option_ids")
    at = answer_converter("saved_at")
    return [
        SavedAnswer(
            id=answer_id,
            question_id=question_id,
            selected_option_ids=selected(selected_ids),
            flagged=bool(flagged),
            time_spent_sec=spent,
            saved_at=at(saved_at),
        )
        for answer_id, question_id, selected_ids, flagged, spent, saved_at in sql.fetch_all(
            _saved_answers_sql(connection.vendor), [session_id]
        )
    ]


def _answers_by_question(session: ExamSession) -> dict[int, ExamAnswer]:
    return {a.question_id: a for a in session.answers.all()}


def _answer_data(answer: ExamAnswer | SavedAnswer) -> dict[str, Any]:
    return {
        "question_id": answer.question_id,
        "selected_option_ids": list(answer.selected_option_ids),
        "flagged": answer.flagged,
        "time_spent_sec": answer.time_spent_sec,
        "saved_at": answer.saved_at,
    }


def _ordered_options(session: ExamSession, question: Any) -> list[Any]:
    """The question's options in the order stored for this session (new options, if an editor
    added any since, go last)."""
    order = session.option_order.get(str(question.id), [])
    position = {option_id: index for index, option_id in enumerate(order)}
    return sorted(question.options.all(), key=lambda o: (position.get(o.id, len(order)), o.id))


def _question_data(session: ExamSession, question: Any, position: int) -> dict[str, Any]:
    return {
        "id": question.id,
        "position": position,
        "stem": question.stem,
        "type": question.type,
        "category": question.category.name,
        "options": [{"id": o.id, "text": o.text} for o in _ordered_options(session, question)],
        "media": [
            {"url": m.url, "kind": m.kind, "alt_text": m.alt_text, "caption": m.caption}
            for m in question.media.all()
        ],
    }


def _paper_question(
    session: ExamSession, question: DisplayQuestion, position: int
) -> dict[str, Any]:
    """One question in the shape of ``ExamQuestionSerializer``, options in the order stored for
    this session (new options, if an editor added any since, go last)."""
    order = session.option_order.get(str(question.id), [])
    texts = dict(question.options)
    options = None
    if len(order) == len(texts):
        try:  # the usual case: the stored order is a permutation of the options
            options = [{"id": option_id, "text": texts[option_id]} for option_id in order]
        except KeyError:
            options = None
    if options is None:
        at = {option_id: index for index, option_id in enumerate(order)}
        options = [
            {"id": option_id, "text": text}
            for option_id, text in sorted(
                question.options, key=lambda o: (at.get(o[0], len(order)), o[0])
            )
        ]
    return {
        "id": question.id,
        "position": position,
        "stem": question.stem,
        "type": question.type,
        "category": question.category,
        "options": options,
        "media": question.media,
    }


def exam_paper(*, session: ExamSession, new: bool = False) -> dict[str, Any]:
    """The session as the candidate sits it: questions in session order with options in the
    stored order (never the key), saved answers and flags, the deadline and the server's now.

    ``questions`` is already plain data in its output shape (a paper has up to 500 questions;
    see ``ExamSessionOutputSerializer``). ``new``: the session was created by this request,
    so there are no saved answers to read."""
    questions = display_questions(question_ids=session.question_ids)
    saved = [] if new else saved_answers(session_id=session.id)
    answers = {a.question_id: a for a in saved}
    return {
        "id": session.id,
        "template": {
            "id": session.template.id,
            "name": session.template.name,
            "paper": session.template.paper,
        },
        "status": session.status,
        "started_at": session.started_at,
        "expires_at": session.expires_at,
        "server_now": timezone.now(),
        "submitted_at": session.submitted_at,
        "duration_minutes": session.template.duration_minutes,
        "total_questions": len(questions),
        "answered": sum(1 for a in answers.values() if a.selected_option_ids),
        "flagged": sum(1 for a in answers.values() if a.flagged),
        "questions": [_paper_question(session, q, i) for i, q in enumerate(questions, start=1)],
        "answers": [_answer_data(answers[q.id]) for q in questions if q.id in answers],
        "result": session.result if not session.is_open else None,
    }


def exam_review(*, session: ExamSession) -> dict[str, Any]:
    """Every question of a submitted session with the candidate's answer, the correct options,
    correctness and explanation, in the session's order. Unanswered questions are wrong."""
    questions = questions_for_display(question_ids=session.question_ids)
    keys = answer_keys(question_ids=session.question_ids)
    answers = _answers_by_question(session)
    attempts = []
    for position, question in enumerate(questions, start=1):
        answer = answers.get(question.id)
        attempts.append(
            {
                **_question_data(session, question, position),
                "question_id": question.id,
                "selected_option_ids": list(answer.selected_option_ids) if answer else [],
                "flagged": bool(answer and answer.flagged),
                "correct_option_ids": keys.get(question.id, []),
                "is_correct": bool(answer and answer.is_correct),
                "explanation": question.explanation,
                "reference": question.reference,
            }
        )
        del attempts[-1]["id"]
    return {
        "id": session.id,
        "template": {"id": session.template.id, "name": session.template.name},
        "status": session.status,
        "submitted_at": session.submitted_at,
        "score_percent": session.score_percent,
        "result": session.result,
        "attempts": attempts,
    }


def exam_result(*, session: ExamSession) -> dict[str, Any]:
    """The stored outcome of a submitted session (the same document however often asked)."""
    result = dict(session.result or {})
    return {
        "id": session.id,
        "status": session.status,
        "submitted_at": session.submitted_at,
        "auto_submitted": session.auto_submitted,
        **result,
    }


# --- Dashboard ----------------------------------------------------------------------------------


def last_exam_summary(*, user_id: int) -> dict[str, Any] | None:
    """The user's most recently submitted exam for the dashboard, in one query, or None.

    ``{"submitted_at", "exam", "score_percent", "time_spent_min", "answered", "session_id"}``.
    On every uncached dashboard, so the statement is written out (apps/core/sql.py).
    """
    row = sql.fetch_one(_last_exam_sql(), [user_id])
    if row is None:
        return None
    session_id, submitted_at, exam, score, seconds, answered = row
    submitted_at = sql.aware(submitted_at)
    return {
        "submitted_at": submitted_at,
        "exam": exam,
        "score_percent": score or 0,
        "time_spent_min": ((seconds or 0) + 30) // 60,
        "answered": answered or 0,
        "session_id": session_id,
    }


@cache
def _last_exam_sql() -> str:
    return (
        "SELECT s.id, s.submitted_at, t.name, s.score_percent, s.time_spent_sec, s.answered "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"FROM {sql.quote(ExamSession._meta.db_table)} s "
        f"JOIN {sql.quote(ExamTemplate._meta.db_table)} t ON t.id = s.template_id "
        "WHERE s.user_id = %s AND s.submitted_at IS NOT NULL "
        "ORDER BY s.submitted_at DESC, s.id DESC LIMIT 1"
    )


# --- Personal data (GDPR export) -----------------------------------------------------------


def personal_data(*, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every exam session of the user with its saved answers, JSON-ready. Two queries.

    An open session's answers carry ``is_correct`` null (they are scored only on submission), so
    the export never reveals the key of a paper still being sat."""
    sessions = (
        ExamSession.objects.filter(user_id=user_id)
        .select_related("template")
        .prefetch_related(Prefetch("answers", queryset=ExamAnswer.objects.order_by("id")))
        .order_by("started_at", "id")
    )
    return {
        "exam_sessions": [
            {
                "id": s.pk,
                "template_id": s.template_id,
                "template_name": s.template.name,
                "status": s.status,
                "question_ids": s.question_ids,
                "started_at": s.started_at.isoformat(),
                "expires_at": s.expires_at.isoformat(),
                "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
                "auto_submitted": s.auto_submitted,
                "score_percent": s.score_percent,
                "correct": s.correct,
                "answered": s.answered,
                "time_spent_sec": s.time_spent_sec,
                "answers": [
                    {
                        "question_id": a.question_id,
                        "selected_option_ids": a.selected_option_ids,
                        "flagged": a.flagged,
                        "time_spent_sec": a.time_spent_sec,
                        "saved_at": a.saved_at.isoformat(),
                        "is_correct": None if s.is_open else a.is_correct,
                    }
                    for a in s.answers.all()
                ],
            }
            for s in sessions
        ]
    }
