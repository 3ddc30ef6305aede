"""Starting a session: drawing the paper and fixing its order for the whole sitting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.billing.entitlements import Entitlement, EntitlementRequired, has_entitlement
from apps.exams.answered import last_answered
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import (
    BlueprintItem,
    ExamSession,
    ExamTemplate,
    TemplateKind,
)
from apps.exams.selectors import (
    fixed_question_ids,
    fixed_template_availability,
    is_past_deadline,
    open_exam_session,
    startable_exam_template,
)
from apps.exams.selectors.drawing import DrawPlan, draw_candidates, draw_plan, mock_history
from apps.exams.selectors.standards import part_a_standard
from apps.exams.selectors.templates import plan_mismatch
from apps.exams.services.drawing import draw_questions
from apps.exams.services.integrity import ClientInfo, add_first_sitting, note_sitting
from apps.exams.services.scoring import submit_exam_session
from apps.questions.difficulty import difficulty_of
from apps.questions.selectors import option_ids_by_question, published_option_ids


@dataclass(frozen=True)
class StartedSession:
    session: ExamSession
    created: bool


def start_exam_session(
    *, user: User, template_id: int, client: ClientInfo | None = None
) -> StartedSession:
    """Starts a session of an active template, or returns the caller's open one.

    Questions are drawn (blueprint and paper templates: :mod:`apps.exams.services.drawing`,
    from the candidate's history) and their order and each question's option order are
    randomised with a stored seed; ``expires_at`` is the server's now plus the duration (a paper
    template's is its paper's time per question). An open session whose deadline has passed is
    scored first and a fresh one started. ``client`` (the caller's address and browser) is
    noted as a sitting of the session. Raises ``NotFound`` for unknown or inactive templates,
    ``EntitlementRequired`` (403) for a full-length mock without that entitlement (billing on)
    and ``TemplateUnfillable`` (409) when the bank cannot supply the questions.
    """
    template = startable_exam_template(template_id=template_id)
    existing = open_exam_session(user=user, template=template)
    if existing is not None:
        if not is_past_deadline(existing):
            if client is not None:
                note_sitting(session=existing, client=client)
            return StartedSession(existing, created=False)
        submit_exam_session(session_id=existing.id, trigger="deadline")

    _require_full_length_entitlement(user, template)
    seed = random.SystemRandom().getrandbits(62)
    if template.kind == TemplateKind.FIXED:
        # The published check and the options come from one read, used for both the
        # availability and the draw.
        listed = fixed_question_ids(template_id=template.id)
        options = published_option_ids(question_ids=listed)
        availability = fixed_template_availability(template, listed, options)
        if not availability.available:
            raise TemplateUnfillable(
                f"{template.name} cannot be started: {availability.unavailable_reason}"
            )
        question_ids, option_order = _draw_fixed(template, listed, options, seed)
        minutes = template.duration_minutes
    else:
        if template.kind == TemplateKind.BLUEPRINT:
            _prefetch_blueprint(template)
        plan = draw_plan(template)
        if plan.total != template.total_questions or not plan.counts:
            raise TemplateUnfillable(
                f"{template.name} cannot be started: {plan_mismatch(template, plan)}"
            )
        question_ids, option_order = draw_exam_paper(
            template=template, seed=seed, user=user, plan=plan
        )
        minutes = plan.duration_minutes
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
                expires_at=now + timedelta(minutes=minutes),
            )
            if client is not None:
                add_first_sitting(session=session, client=client)
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
        winner = open_exam_session(user=user, template=template)
        if winner is None:
            raise
        return StartedSession(winner, created=False)
    return StartedSession(session, created=True)


def _require_full_length_entitlement(user: User, template: ExamTemplate) -> None:
    """A full-length mock (at least as many questions as its paper) needs the
    ``full_length_mocks`` entitlement (apps/billing): 403 ``entitlement_required`` without it.
    With billing off everyone has it and nothing is read; an open session resumes regardless."""
    if has_entitlement(user, Entitlement.FULL_LENGTH_MOCKS):
        return
    if template.total_questions >= part_a_standard().paper(template.paper).question_count:
        raise EntitlementRequired(Entitlement.FULL_LENGTH_MOCKS)


def _prefetch_blueprint(template: ExamTemplate) -> None:
    """What :func:`draw_plan` reads of a blueprint template."""
    prefetch_related_objects(
        [template],
        Prefetch("blueprint_items", queryset=BlueprintItem.objects.select_related("category")),
    )


def draw_exam_paper(
    *,
    template: ExamTemplate,
    seed: int,
    user: User | None = None,
    plan: DrawPlan | None = None,
) -> tuple[list[int], dict[str, list[int]]]:
    """The session's question ids (in the order shown) and each question's option order.

    A blueprint or paper template is drawn by :func:`~apps.exams.services.drawing.draw_questions`
    against ``user``'s history (what earlier mocks showed, what was answered); without a user
    there is no history (a fixed form is drawn so). Deterministic for a given bank, history,
    template and seed. ``plan`` is the template's :func:`draw_plan` when the caller has it.
    Raises ``TemplateUnfillable`` if the bank cannot supply the plan (for instance a question
    was unpublished a moment ago).

    Reads: the candidates (one), difficulty estimates (the port), and with a user their mock
    history and answered questions (one each), whatever the size of the bank.
    """
    if template.kind == TemplateKind.FIXED:
        listed = fixed_question_ids(template_id=template.id)
        return _draw_fixed(template, listed, published_option_ids(question_ids=listed), seed)

    if plan is None:
        plan = draw_plan(template)
    if not plan.counts:
        raise TemplateUnfillable(f"{template.name} has no blueprint.")
    rng = random.Random(seed)  # nosec B311 # reproducible paper, not a secret
    candidates = draw_candidates(
        category_ids=list(plan.counts), single_best_answer_only=plan.single_best_answer_only
    )
    shown = mock_history(user_id=user.pk) if user is not None else {}
    answered = (
        last_answered(user_id=user.pk, category_ids=list(plan.counts)) if user is not None else {}
    )
    question_ids = draw_questions(
        plan=plan,
        candidates=candidates,
        rng=rng,
        shown=shown,
        answered=answered,
        calibrated=difficulty_of([c.id for c in candidates]),
        template_name=template.name,
    )
    rng.shuffle(question_ids)
    # Only the option ids are needed here (not the display objects: 180 questions with their
    # options and media cost tens of milliseconds to load).
    return question_ids, _option_order(
        rng, question_ids, option_ids_by_question(question_ids=question_ids)
    )


def _draw_fixed(
    template: ExamTemplate, listed: list[int], options: dict[int, list[int]], seed: int
) -> tuple[list[int], dict[str, list[int]]]:
    """The fixed list's published questions (``options`` holds exactly those, with their
    option ids in display order), shuffled if the template says so."""
    rng = random.Random(seed)  # nosec B311 # reproducible paper, not a secret
    question_ids = [qid for qid in listed if qid in options]
    if len(question_ids) != template.total_questions or not question_ids:
        raise TemplateUnfillable(f"{template.name} lists questions that are not published.")
    if template.shuffle_questions:
        rng.shuffle(question_ids)
    return question_ids, _option_order(rng, question_ids, options)


def _option_order(
    rng: random.Random, question_ids: list[int], options: dict[int, list[int]]
) -> dict[str, list[int]]:
    option_order: dict[str, list[int]] = {}
    for question_id in question_ids:
        option_ids = list(options.get(question_id, []))
        rng.shuffle(option_ids)
        option_order[str(question_id)] = option_ids
    return option_order
