"""Sessions as the services and views look them up: the deadline rule, the caller's own
session, the open one of a template, the expired ones and a session's saved answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.exams.models import ExamSession, ExamTemplate, SessionStatus
from apps.exams.statements import OPEN_SESSION, SAVED_ANSWERS, SavedAnswer, instance


def grace() -> timedelta:
    """How long after ``expires_at`` answers still in flight are accepted."""
    return timedelta(seconds=settings.EXAM_GRACE_SECONDS)


def is_past_deadline(session: ExamSession, *, now: datetime | None = None) -> bool:
    """True once an open session can no longer take answers (deadline plus grace has passed)."""
    return (now or timezone.now()) > session.expires_at + grace()


def deadline_from(at: datetime) -> datetime:
    """The earliest deadline of a session that still takes answers at ``at``: what
    ``ExamSession.objects.taking_answers`` is given (the set twin of :func:`is_past_deadline`)."""
    return at - grace()


def exam_session_for(*, user: User, session_id: int) -> ExamSession:
    """The caller's own session; anybody else's is simply not found."""
    session = (
        ExamSession.objects.select_related("template").filter(id=session_id, user=user).first()
    )
    if session is None:
        raise NotFound("No such exam session.")
    return session


def open_exam_session(*, user: User, template: ExamTemplate) -> ExamSession | None:
    """The caller's session of ``template`` still in progress (at most one exists), with the
    template attached. On every start: compiled once."""
    row = OPEN_SESSION.fetch_first(user_id=user.pk, template_id=template.pk)
    if row is None:
        return None
    session = instance(ExamSession, row)
    session.template = template
    return session


def expired_open_session_ids(*, user: User | None = None, limit: int = 500) -> list[int]:
    """Open sessions whose deadline (plus grace) has passed, oldest deadline first."""
    qs = ExamSession.objects.filter(
        status=SessionStatus.IN_PROGRESS, expires_at__lt=deadline_from(timezone.now())
    )
    if user is not None:
        qs = qs.filter(user=user)
    return list(qs.order_by("expires_at", "id").values_list("id", flat=True)[:limit])


def saved_answers(*, session_id: int) -> list[SavedAnswer]:
    """Every answer saved in the session, in one statement (compiled once: the paper and the
    scoring read up to 500)."""
    return [SavedAnswer(**row) for row in SAVED_ANSWERS.fetch(session_id=session_id)]
