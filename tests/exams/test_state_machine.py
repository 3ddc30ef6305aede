"""A property-based model of one exam sitting: start, answer, move the clock, read, sweep,
submit, in any order. Invariants: the state only moves forward, answers after the deadline
never count, and the stored score equals a recomputation from the stored answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
import time_machine
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.exams.exceptions import ExamExpired, ExamSubmitted
from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.selectors import exam_session_for
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
    submit_expired_sessions,
    submit_if_past_deadline,
)
from apps.questions.models import AnswerOption
from tests.accounts.factories import UserFactory
from tests.exams.factories import blueprint_template, make_bank

pytestmark = pytest.mark.django_db

RANK = {
    SessionStatus.IN_PROGRESS: 0,
    SessionStatus.SUBMITTED: 1,
    SessionStatus.EXPIRED_SUBMITTED: 1,
}
DURATION = timedelta(minutes=10)


class ExamSitting(RuleBasedStateMachine):
    template_id: ClassVar[int]

    def __init__(self) -> None:
        super().__init__()
        self.traveller = time_machine.travel(
            datetime.fromisoformat("2031-01-01T08:00:00+00:00"), tick=False
        )
        self.clock = self.traveller.start()
        self.user = UserFactory()
        self.session: ExamSession | None = None
        # What the candidate has validly saved (the model), question id -> selection.
        self.accepted: dict[int, list[int]] = {}
        self.rank = 0
        self.first_result: dict[str, Any] | None = None

    def teardown(self) -> None:
        self.traveller.stop()

    # --- helpers ---

    def now(self) -> datetime:
        from django.utils import timezone

        return timezone.now()

    def fresh(self) -> ExamSession:
        assert self.session is not None
        return ExamSession.objects.get(id=self.session.id)

    def cutoff(self) -> datetime:
        assert self.session is not None
        return self.session.expires_at + timedelta(seconds=django_settings.EXAM_GRACE_SECONDS)

    # --- rules ---

    @initialize()
    def start(self) -> None:
        started = start_exam_session(user=self.user, template_id=self.template_id)
        self.session = started.session
        assert started.created
        assert self.session.expires_at - self.session.started_at == DURATION

    @rule(
        index=st.integers(min_value=0, max_value=5),
        pick=st.none() | st.sets(st.integers(min_value=0, max_value=4), max_size=3),
        flagged=st.none() | st.booleans(),
    )
    def answer(self, index: int, pick: set[int] | None, flagged: bool | None) -> None:
        assert self.session is not None
        question_id = self.session.question_ids[index]
        options = self.session.option_order[str(question_id)]
        # None: a flag-only save that keeps the saved selection.
        selection = None if pick is None else sorted(options[i] for i in pick)
        was_open = self.fresh().is_open
        try:
            save_exam_answers(
                user=self.user,
                session_id=self.session.id,
                answers=[AnswerInput(question_id, selection, 7, flagged)],
            )
        except ExamSubmitted:
            assert not was_open
        except ExamExpired:
            assert was_open
            assert self.now() > self.cutoff()
        else:
            assert was_open
            assert self.now() <= self.cutoff()
            if selection is not None:
                self.accepted[question_id] = selection
            else:
                self.accepted.setdefault(question_id, [])

    @rule(seconds=st.integers(min_value=1, max_value=8 * 60))
    def advance_clock(self, seconds: int) -> None:
        self.clock.shift(timedelta(seconds=seconds))

    @rule()
    def near_the_deadline(self) -> None:
        """Lands within a few seconds either side of the deadline plus grace."""
        assert self.session is not None
        if self.now() < self.session.expires_at:
            self.clock.move_to(self.session.expires_at + timedelta(seconds=4))

    @rule()
    def submit(self) -> None:
        assert self.session is not None
        session = submit_exam_session(session_id=self.session.id, user=self.user)
        assert not session.is_open

    @rule()
    def read(self) -> None:
        assert self.session is not None
        session = submit_if_past_deadline(
            session=exam_session_for(user=self.user, session_id=self.session.id)
        )
        assert session.is_open == (self.now() <= self.cutoff() and self.rank == 0)

    @precondition(lambda self: self.session is not None)
    @rule()
    def sweep(self) -> None:
        submit_expired_sessions(user=self.user)

    # --- invariants ---

    @invariant()
    def state_only_moves_forward(self) -> None:
        if self.session is None:
            return
        session = self.fresh()
        rank = RANK[SessionStatus(session.status)]
        assert rank >= self.rank
        self.rank = rank
        if rank:
            if self.first_result is None:
                self.first_result = {
                    "status": session.status,
                    "submitted_at": session.submitted_at,
                    "result": session.result,
                }
            assert self.first_result == {
                "status": session.status,
                "submitted_at": session.submitted_at,
                "result": session.result,
            }

    @invariant()
    def stored_answers_are_the_accepted_ones(self) -> None:
        if self.session is None:
            return
        stored = dict(
            ExamAnswer.objects.filter(session_id=self.session.id).values_list(
                "question_id", "selected_option_ids"
            )
        )
        assert stored == self.accepted
        assert not ExamAnswer.objects.filter(
            session_id=self.session.id, saved_at__gt=self.cutoff()
        ).exists()

    @invariant()
    def score_equals_a_recomputation(self) -> None:
        if self.session is None:
            return
        session = self.fresh()
        if session.is_open:
            assert session.score_percent is None
            return
        key: dict[int, set[int]] = {q: set() for q in session.question_ids}
        for question_id, option_id in AnswerOption.objects.filter(
            question_id__in=session.question_ids, is_correct=True
        ).values_list("question_id", "id"):
            key[question_id].add(option_id)
        answered = {q: set(s) for q, s in self.accepted.items() if s}
        correct = sum(1 for q, chosen in answered.items() if chosen == key[q])
        total = len(session.question_ids)
        assert session.answered == len(answered)
        assert session.correct == correct
        assert session.score_percent == round(100 * correct / total + 1e-9)
        marks = dict(
            ExamAnswer.objects.filter(session=session).values_list("question_id", "is_correct")
        )
        assert marks == {q: (q in answered and answered[q] == key[q]) for q in self.accepted}
        assert session.time_spent_sec is not None
        assert session.time_spent_sec <= DURATION.total_seconds()
        if session.status == SessionStatus.EXPIRED_SUBMITTED:
            assert session.submitted_at is not None
            assert session.submitted_at > self.cutoff()


def test_exam_sitting_state_machine(db: Any) -> None:
    (category,) = make_bank(categories=1, per_category=6, type="multi")
    ExamSitting.template_id = blueprint_template(
        {category: 6}, duration_minutes=int(DURATION.total_seconds() // 60)
    ).id
    run_state_machine_as_test(
        ExamSitting,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
