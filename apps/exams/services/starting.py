"""Starting a session: drawing the paper and fixing its order for the whole sitting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record_event
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import (
    ExamSession,
    ExamTemplate,
    TemplateKind,
)
from apps.exams.selectors import (
    active_exam_template,
    is_past_deadline,
    open_exam_session,
    template_availability,
)
from apps.exams.services.scoring import submit_exam_session
from apps.questions.selectors import (
    drawable_question_ids,
    option_ids_by_question,
    published_questions,
    question_categories,
)


@dataclass(frozen=True)
class StartedSession:
    session: ExamSession
    created: bool


def start_exam_session(*, user: Any, template_id: int) -> StartedSession:
    """Starts a session of an active template, or returns the caller's open one.

    Questions are drawn (blueprint) and their order and each question's option order are
    randomised with a stored seed; ``expires_at`` is the server's now plus the duration. An open
    session whose deadline has passed is scored first and a fresh one started. Raises
    ``NotFound`` for unknown or inactive templates and ``TemplateUnfillable`` (409) when the
    bank cannot supply the questions.
    """
    template = active_exam_template(template_id=template_id)
    existing = open_exam_session(user=user, template_id=template.id)
    if existing is not None:
        if not is_past_deadline(existing):
            return StartedSession(existing, created=False)
        submit_exam_session(session_id=existing.id, trigger="deadline")

    availability = template_availability([template])[template.id]
    if not availability.available:
        raise TemplateUnfillable(
            f"{template.name} cannot be started: {availability.unavailable_reason}"
        )
    seed = random.SystemRandom().getrandbits(62)
    question_ids, option_order = draw_exam_paper(template=template, seed=seed)
    now = timezone.now()
    try:
        with transaction.atomic():
            session = ExamSession.objects.create(
                user=user,
                template=template,
                question_ids=question_ids,
                option_order=option_order,
                seed=seed,
                started_at=now,
                expires_at=now + timedelta(minutes=template.duration_minutes),
            )
            record_event(
                kind="session",
                action="exam.start",
                actor=user,
                target=session,
                subject_user_id=user.id,
                after={
                    "template_id": template.id,
                    "questions": len(question_ids),
                    "expires_at": session.expires_at.isoformat(),
                },
            )
    except IntegrityError:
        # A concurrent start by the same candidate won the race for the one open session.
        winner = open_exam_session(user=user, template_id=template.id)
        if winner is None:
            raise
        return StartedSession(winner, created=False)
    return StartedSession(session, created=True)


def draw_exam_paper(*, template: ExamTemplate, seed: int) -> tuple[list[int], dict[str, list[int]]]:
    """The session's question ids (in the order shown) and each question's option order.

    Deterministic for a given bank, template and seed. Raises ``TemplateUnfillable`` if the bank
    cannot supply the plan (for instance a question was unpublished a moment ago).
    """
    rng = random.Random(seed)  # nosec B311 # reproducible paper, not a secret
    if template.kind == TemplateKind.FIXED:
        listed = [row.question_id for row in template.fixed_questions.all()]
        published = set(published_questions().filter(id__in=listed).values_list("id", flat=True))
        question_ids = [qid for qid in listed if qid in published]
        if len(question_ids) != template.total_questions or not question_ids:
            raise TemplateUnfillable(f"{template.name} lists questions that are not published.")
        if template.shuffle_questions:
            rng.shuffle(question_ids)
    else:
        items = sorted(template.blueprint_items.all(), key=lambda item: item.category_id)
        pool = drawable_question_ids(category_ids=[item.category_id for item in items])
        category_of = question_categories(question_ids=pool)
        by_category: dict[int, list[int]] = {}
        for qid in pool:
            by_category.setdefault(category_of[qid], []).append(qid)
        question_ids = []
        for item in items:
            candidates = by_category.get(item.category_id, [])
            if len(candidates) < item.count or item.count < 1:
                raise TemplateUnfillable(
                    f"The question bank has too few questions for {template.name}."
                )
            question_ids.extend(rng.sample(candidates, item.count))
        if not question_ids:
            raise TemplateUnfillable(f"{template.name} has no blueprint.")
        rng.shuffle(question_ids)

    # Only the option ids are needed here (not the display objects: 180 questions with their
    # options and media cost tens of milliseconds to load).
    options = option_ids_by_question(question_ids=question_ids)
    option_order: dict[str, list[int]] = {}
    for question_id in question_ids:
        option_ids = options.get(question_id, [])
        rng.shuffle(option_ids)
        option_order[str(question_id)] = option_ids
    return question_ids, option_order
