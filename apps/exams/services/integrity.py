"""Integrity signals of a sitting: where a session was opened from (each distinct network
address and browser) and what the candidate's browser reports (focus lost and regained, the
page hidden and shown, the paper resumed). They are signals for an examiner reading a session
in the admin, never proof of anything, and never change a score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.exams.exceptions import EventLimitReached, ExamExpired, ExamSubmitted
from apps.exams.models import (
    MAX_EVENTS_PER_SESSION,
    EventSource,
    ExamSession,
    ExamSessionEvent,
    ExamSitting,
    SessionEventKind,
)
from apps.exams.selectors import is_past_deadline
from apps.exams.statements import lock_exam_session


@dataclass(frozen=True)
class ClientInfo:
    """The caller's address (None when it could not be read) and browser, as the view saw
    them (apps/core/api/client.py)."""

    ip_address: str | None
    user_agent: str


def add_first_sitting(*, session: ExamSession, client: ClientInfo) -> ExamSitting:
    """The sitting a new session starts from (inside the start's transaction)."""
    return ExamSitting.objects.create(
        session=session,
        ip_address=client.ip_address,
        user_agent=client.user_agent[:300],
        first_seen_at=session.started_at,
    )


def _sitting(
    session: ExamSession, client: ClientInfo, now: datetime, *, room_for_event: bool
) -> ExamSitting:
    """The session's sitting for this client, added if new, with a server-noted ``resumed``
    event when the session already had another (it was continued elsewhere) and
    ``room_for_event`` (the bound is not reached). Call under the session's row lock."""
    sitting, created = ExamSitting.objects.get_or_create(
        session=session,
        ip_address=client.ip_address,
        user_agent=client.user_agent[:300],
        defaults={"first_seen_at": now},
    )
    if (
        created
        and room_for_event
        and ExamSitting.objects.filter(session=session).exclude(id=sitting.id).exists()
    ):
        ExamSessionEvent.objects.create(
            session=session,
            sitting=sitting,
            kind=SessionEventKind.RESUMED,
            source=EventSource.SERVER,
            occurred_at=now,
            recorded_at=now,
        )
    return sitting


def note_sitting(*, session: ExamSession, client: ClientInfo) -> None:
    """Notes that an open session was opened by ``client``. Known clients cost one read; a new
    one is added under the session's row lock (with a ``resumed`` event if the session was
    opened elsewhere before). A submitted session is left alone."""
    if not session.is_open:
        return
    known = ExamSitting.objects.filter(
        session=session, ip_address=client.ip_address, user_agent=client.user_agent[:300]
    ).exists()
    if known:
        return
    with transaction.atomic():
        locked = lock_exam_session(session_id=session.pk, user_id=None)
        if locked is not None and locked.is_open:
            events = ExamSessionEvent.objects.filter(session=locked).count()
            _sitting(locked, client, timezone.now(), room_for_event=events < MAX_EVENTS_PER_SESSION)


def record_session_event(
    *,
    user: User,
    session_id: int,
    kind: SessionEventKind,
    occurred_at: datetime,
    client: ClientInfo,
) -> ExamSessionEvent:
    """Records one signal the candidate's browser reports while the session takes answers.

    Raises ``NotFound`` (not the caller's session), ``ExamSubmitted`` / ``ExamExpired`` (409:
    the sitting is over) and ``EventLimitReached`` (409 ``event_limit_reached``) once the
    session holds :data:`~apps.exams.models.MAX_EVENTS_PER_SESSION` events. Counted and written
    under the session's row lock, so concurrent reports never pass the bound."""
    with transaction.atomic():
        session = lock_exam_session(session_id=session_id, user_id=user.pk)
        if session is None:
            raise NotFound("No such exam session.")
        if not session.is_open:
            raise ExamSubmitted("This exam has been submitted; it records no more events.")
        now = timezone.now()
        if is_past_deadline(session, now=now):
            raise ExamExpired("The time for this exam is over; it records no more events.")
        events = ExamSessionEvent.objects.filter(session=session).count()
        if events >= MAX_EVENTS_PER_SESSION:
            raise EventLimitReached(
                f"This session already holds {MAX_EVENTS_PER_SESSION} events, as many as it keeps."
            )
        # The candidate's own event always fits; a server-noted resume only with room beside it.
        sitting = _sitting(session, client, now, room_for_event=events + 1 < MAX_EVENTS_PER_SESSION)
        return ExamSessionEvent.objects.create(
            session=session,
            sitting=sitting,
            kind=kind,
            source=EventSource.CLIENT,
            occurred_at=occurred_at,
            recorded_at=now,
        )
