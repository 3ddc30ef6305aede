"""A simulated world with known parameters: a bank of single best answer questions spread over
both papers' blueprint categories, each with a true Rasch difficulty, and candidates with true
abilities whose first attempts are drawn from the model and written to the learning record.

Facts are inserted as the learning record stores them (one row per answered question); what
readiness does with them from there is the real pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.exams.selectors.standards import DEFAULT_BLUEPRINTS
from apps.questions.models import Question, QuestionStatus, QuestionType
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory

_ids = iter(range(5_000_000, 10_000_000))


@dataclass
class World:
    rng: np.random.Generator
    categories: dict[str, Category]
    questions: list[Question]
    difficulty: dict[int, float]  # question id -> true b
    by_category: dict[int, list[int]] = field(default_factory=dict)  # category -> question ids
    ability: dict[int, float] = field(default_factory=dict)  # user id -> true theta

    def answer(
        self,
        user: User,
        question_ids: list[int],
        *,
        theta: float | None = None,
        correct: bool | None = None,
        source: str = "practice",
        session_id: int | None = None,
        start: float = 0.0,
    ) -> None:
        """``user`` answers these questions (first attempts) now-ish: drawn from the model at
        ``theta`` (their true ability), or all right / all wrong with ``correct``."""
        now = timezone.now() - timedelta(days=30) + timedelta(hours=start)
        if theta is not None:
            self.ability[user.pk] = theta
        true_theta = self.ability.get(user.pk, 0.0)
        facts = []
        for offset, qid in enumerate(question_ids):
            if correct is None:
                p = 1.0 / (1.0 + np.exp(-(true_theta - self.difficulty[qid])))
                right = bool(self.rng.random() < p)
            else:
                right = correct
            question = self._question[qid]
            facts.append(
                AnswerFact(
                    user=user,
                    question_id=qid,
                    category_id=question.category_id,
                    source=source,
                    source_id=session_id if session_id is not None else next(_ids),
                    is_correct=right,
                    time_spent_sec=60,
                    counted_time_sec=60,
                    answered_at=now + timedelta(seconds=offset),
                    local_date=(now + timedelta(seconds=offset)).date(),
                    question_version=1,
                )
            )
        AnswerFact.objects.bulk_create(facts)

    @property
    def _question(self) -> dict[int, Question]:
        return {q.pk: q for q in self.questions}

    def spread_items(self, count: int) -> list[int]:
        """``count`` distinct questions covering every category (round robin), random order."""
        pools = [list(self.rng.permutation(ids)) for ids in self.by_category.values()]
        chosen: list[int] = []
        while len(chosen) < count and any(pools):
            for pool in pools:
                if pool and len(chosen) < count:
                    chosen.append(int(pool.pop()))
        return chosen

    def simulate_paper_percent(self, theta: float, blueprint: dict[str, int]) -> float:
        """A real sitting: the paper's questions drawn to its blueprint from the bank, each
        answered from the model at the candidate's true ability."""
        right = 0
        total = 0
        for slug, count in blueprint.items():
            pool = self.by_category[self.categories[slug].pk]
            picks = self.rng.choice(pool, size=count, replace=len(pool) < count)
            b = np.asarray([self.difficulty[int(q)] for q in picks])
            right += int((self.rng.random(count) < 1.0 / (1.0 + np.exp(-(theta - b)))).sum())
            total += count
        return 100.0 * right / total


def build_world(*, seed: int, per_category: int = 6, difficulty_sd: float = 1.0) -> World:
    rng = np.random.default_rng(seed)
    categories: dict[str, Category] = {}
    for order, slug in enumerate(sorted({s for bp in DEFAULT_BLUEPRINTS.values() for s in bp})):
        categories[slug], _ = Category.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("-", " ").title(), "order": order}
        )
    questions = Question.objects.bulk_create(
        Question(
            stem=f"Simulated question {slug} #{i}",
            stem_normalised=f"sim-{seed}-{slug}-{i}",
            type=QuestionType.SINGLE,
            category=category,
            explanation="Simulated.",
            status=QuestionStatus.PUBLISHED,
        )
        for slug, category in categories.items()
        for i in range(per_category)
    )
    difficulty = {q.pk: float(rng.normal(0.0, difficulty_sd)) for q in questions}
    world = World(rng=rng, categories=categories, questions=questions, difficulty=difficulty)
    for q in questions:
        world.by_category.setdefault(q.category_id, []).append(q.pk)
    return world


def candidates(count: int) -> list[User]:
    return [UserFactory() for _ in range(count)]
