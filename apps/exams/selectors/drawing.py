"""What drawing a mock reads: the template's plan (how many questions from each category, in
what time, of which type), the bank's candidates with what the spread is computed from, and
what the candidate has already been shown. Each is one set read, whatever the plan."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from apps.exams.models import ExamSession, ExamTemplate, TemplateKind
from apps.exams.selectors.standards import (
    PartAStandard,
    part_a_standard,
    scaled_blueprint,
    scaled_minutes,
)
from apps.questions.models import QuestionType
from apps.questions.selectors import published_questions


@dataclass(frozen=True)
class DrawPlan:
    """A drawn template's plan. ``counts`` maps category id to questions; a paper template's
    comes from its paper's blueprint scaled to the template's length, a blueprint template's
    from its own rows."""

    counts: dict[int, int]
    duration_minutes: int
    single_best_answer_only: bool
    category_names: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def draw_plan(template: ExamTemplate, *, standard: PartAStandard | None = None) -> DrawPlan:
    """The plan of a blueprint or paper template. A blueprint template must come with its
    ``blueprint_items`` (with category) prefetched; a paper template reads the exam standard
    (:func:`part_a_standard`, four queries) unless ``standard`` is given."""
    if template.kind == TemplateKind.PAPER:
        paper = (standard or part_a_standard()).paper(template.paper)
        counts = scaled_blueprint(paper, template.total_questions)
        return DrawPlan(
            counts=dict(sorted(counts.items())),
            duration_minutes=scaled_minutes(paper, template.total_questions),
            single_best_answer_only=True,
            category_names={cid: paper.category_names[cid] for cid in counts},
        )
    if template.kind != TemplateKind.BLUEPRINT:
        raise ValueError(f"A {template.kind} template is not drawn.")
    items = sorted(template.blueprint_items.all(), key=lambda item: item.category_id)
    return DrawPlan(
        counts={item.category_id: item.count for item in items},
        duration_minutes=template.duration_minutes,
        single_best_answer_only=False,
        category_names={item.category_id: item.category.name for item in items},
    )


@dataclass(frozen=True, slots=True)
class DrawCandidate:
    """A question the draw may pick, with what its spread is computed from."""

    id: int
    category_id: int
    subcategory_id: int | None
    authored_difficulty: int  # 1 (easy) to 5 (hard), the editor's estimate
    times_answered: int
    times_correct: int


def draw_candidates(
    *, category_ids: Collection[int], single_best_answer_only: bool
) -> list[DrawCandidate]:
    """The published questions of these categories (single best answer only if asked), in id
    order so that a stored seed reproduces a draw. One read."""
    qs = published_questions().filter(category_id__in=list(category_ids))
    if single_best_answer_only:
        qs = qs.filter(type=QuestionType.SINGLE)
    rows = qs.order_by("id").values_list(
        "id", "category_id", "subcategory_id", "difficulty", "times_answered", "times_correct"
    )
    return [DrawCandidate(*row) for row in rows]


def mock_history(*, user_id: int) -> dict[int, datetime]:
    """``{question_id: when a mock of the candidate's last showed it}`` over every session the
    candidate has started (one read of the candidate's own sessions)."""
    shown: dict[int, datetime] = {}
    rows = ExamSession.objects.filter(user_id=user_id).values_list("question_ids", "started_at")
    for question_ids, started_at in rows:
        for question_id in question_ids:
            if question_id not in shown or shown[question_id] < started_at:
                shown[question_id] = started_at
    return shown


def plan_summary(plan: DrawPlan) -> str:
    """What a plan draws, as a template's description says it: ``"20 single best answer
    questions: Anatomy 8, Physiology 5, ..."`` (categories by size, then name)."""
    kind = "single best answer questions" if plan.single_best_answer_only else "questions"
    parts = sorted(
        ((plan.category_names.get(cid, str(cid)), n) for cid, n in plan.counts.items()),
        key=lambda part: (-part[1], part[0]),
    )
    return f"{plan.total} {kind}: " + ", ".join(f"{name} {n}" for name, n in parts)
