"""Demo question bank.

``seed_demo`` loads the hand-written questions of ``demo_content/questions.json`` through the
same service (and integrity rules) as the API, published, creating only questions whose
normalised stem is not in the bank yet: running it again creates nothing and never undoes an
editor's change. ``seed_synthetic`` bulk-inserts generated questions for load tests, marked
``is_synthetic`` and prefixed "[Synthetic]".
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.core.exceptions import ValidationFailed
from apps.questions.models import AnswerOption, Question, QuestionStatus, QuestionType
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services import create_question
from apps.taxonomy.models import Category, Subcategory

DEMO_FILE = Path(__file__).resolve().parent / "demo_content" / "questions.json"


def seed_demo(*, stdout: Any, path: Path | None = None) -> None:
    source = path or DEMO_FILE
    if not source.exists():
        stdout.write(f"questions: no demo content at {source}")
        return
    rows = json.loads(source.read_text(encoding="utf-8"))
    categories = {c.slug: c for c in Category.objects.all()}
    subcategories = {(s.category_id, s.slug): s for s in Subcategory.objects.all()}
    in_bank = set(
        Question.objects.filter(
            stem_normalised__in=[stem_fingerprint(row.get("stem", "")) for row in rows]
        ).values_list("stem_normalised", flat=True)
    )
    created = 0
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        fingerprint = stem_fingerprint(row.get("stem", ""))
        if fingerprint in in_bank:
            continue
        category = categories.get(row.get("category") or "")
        if category is None:
            problems.append(f"#{number}: unknown category {row.get('category')!r}")
            continue
        subcategory = subcategories.get((category.pk, row.get("subcategory") or ""))
        if row.get("subcategory") and subcategory is None:
            problems.append(f"#{number}: unknown subcategory {row.get('subcategory')!r}")
        try:
            create_question(
                actor=None,
                stem=row["stem"],
                type=row.get("type", QuestionType.SINGLE),
                category=category,
                subcategory=subcategory,
                difficulty=int(row.get("difficulty", 3)),
                explanation=row.get("explanation", ""),
                reference=row.get("reference", ""),
                status=QuestionStatus.PUBLISHED,
                tags=row.get("tags", []),
                options=row.get("options", []),
                media=row.get("media", []),
                audit=False,
            )
        except ValidationFailed as exc:
            problems.append(f"#{number}: {exc.message}")
            continue
        in_bank.add(fingerprint)
        created += 1
    for problem in problems:
        stdout.write(f"questions: skipped {problem}")
    stdout.write(f"questions: {len(rows)} in demo content, {created} created")


_AGES = range(18, 90)
_PRESENTATIONS = (
    "abdominal pain",
    "a painless neck lump",
    "rectal bleeding",
    "a swollen calf",
    "shortness of breath after surgery",
    "a head injury",
    "groin swelling",
    "haematuria",
    "a pulsatile abdominal mass",
    "right upper quadrant pain",
)


@transaction.atomic
def seed_synthetic(*, count: int, batch_size: int = 1000) -> int:
    """Adds ``count`` generated, published questions (five options each; one correct for
    single, two for multi) spread over the active categories with bulk inserts. Returns how
    many were created."""
    if count <= 0:
        return 0
    categories = list(Category.objects.filter(is_active=True).order_by("id"))
    if not categories:
        category, _ = Category.objects.get_or_create(
            slug="synthetic", defaults={"name": "Synthetic", "order": 999}
        )
        categories = [category]
    subs_by_category: dict[int, list[Subcategory]] = {}
    for sub in Subcategory.objects.filter(is_active=True, category__in=categories):
        subs_by_category.setdefault(sub.category_id, []).append(sub)

    run = uuid.uuid4().hex[:10]
    rng = random.Random(run)  # nosec B311 # demo data
    created = 0
    for start in range(0, count, batch_size):
        questions: list[Question] = []
        for i in range(start, min(start + batch_size, count)):
            category = categories[i % len(categories)]
            subs: list[Subcategory | None] = list(subs_by_category.get(category.pk, [])) or [None]
            qtype = QuestionType.MULTI if i % 7 == 0 else QuestionType.SINGLE
            stem = (
                f"[Synthetic {run}-{i}] A {rng.choice(_AGES)}-year-old patient presents with "
                f"{rng.choice(_PRESENTATIONS)}. Which is the most appropriate next step?"
            )
            questions.append(
                Question(
                    stem=stem,
                    stem_normalised=stem_fingerprint(stem),
                    type=qtype,
                    category=category,
                    subcategory=subs[i % len(subs)],
                    difficulty=1 + i % 5,
                    explanation="Generated question for load testing.",
                    reference="Synthetic",
                    status=QuestionStatus.PUBLISHED,
                    is_synthetic=True,
                )
            )
        Question.objects.bulk_create(questions)
        # The key moves round the options so that "always A" is not a winning strategy.
        options = [
            AnswerOption(
                question=question,
                text=f"Option {letter}",
                is_correct=(index - offset) % 5 < (2 if question.type == QuestionType.MULTI else 1),
                order=index,
            )
            for offset, question in enumerate(questions, start=start)
            for index, letter in enumerate("ABCDE")
        ]
        AnswerOption.objects.bulk_create(options, batch_size=5000)
        created += len(questions)
    return created
