"""Demo exam templates.

Two short mocks the demo bank can fill, and two full-size blueprints in the current MRCS Part A
format: Paper 1, Applied Basic Sciences, 180 questions in 3 hours; Paper 2, Principles of
Surgery-in-General, 120 questions in 2 hours. The full-size papers are listed as unavailable
until the bank holds enough questions in each category.

Idempotent: a template whose name already exists is left exactly as it is (an examiner may have
changed it). Blueprint categories are looked up by slug; a slug missing from the taxonomy is
skipped and reported, and the template's total is the sum of what remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.exams.models import (
    BlueprintItem,
    ExamPaper,
    ExamTemplate,
    PaperSpec,
    PaperSpecCategory,
    TemplateKind,
)
from apps.exams.selectors.standards import DEFAULT_BLUEPRINTS
from apps.taxonomy.models import Category


@dataclass(frozen=True)
class DemoTemplate:
    name: str
    paper: int
    duration_minutes: int
    description: str
    blueprint: dict[str, int]


DEMO_TEMPLATES = [
    DemoTemplate(
        name="Demo Mock, Paper 1",
        paper=ExamPaper.PAPER_1,
        duration_minutes=30,
        description="A 30-minute taster of Paper 1 (Applied Basic Sciences): 20 single best "
        "answer questions across anatomy, physiology, pathology, pharmacology, microbiology "
        "and research.",
        blueprint={
            "anatomy-embryology": 7,
            "physiology": 4,
            "pathology": 4,
            "pharmacology": 2,
            "microbiology": 2,
            "research-audit": 1,
        },
    ),
    DemoTemplate(
        name="Demo Mock, Paper 2",
        paper=ExamPaper.PAPER_2,
        duration_minutes=30,
        description="A 30-minute taster of Paper 2 (Principles of Surgery-in-General): 20 "
        "questions on common surgical conditions, perioperative care, trauma and the "
        "medico-legal aspects of practice.",
        blueprint={
            "general-surgery": 4,
            "trauma": 4,
            "perioperative-care": 3,
            "critical-care": 2,
            "cancer-palliative-care": 2,
            "orthopaedics": 2,
            "management-legal": 2,
            "paediatric-surgery": 1,
        },
    ),
    DemoTemplate(
        name="Exam A, Paper 1",
        paper=ExamPaper.PAPER_1,
        duration_minutes=180,
        description="Full-length Paper 1, Applied Basic Sciences: 180 single best answer "
        "questions in 3 hours, weighted like the real paper (anatomy 75, physiology 45, "
        "pathology 37, pharmacology 8, microbiology 7, imaging 5, statistics and audit 3).",
        blueprint=DEFAULT_BLUEPRINTS[1],
    ),
    DemoTemplate(
        name="Exam A, Paper 2",
        paper=ExamPaper.PAPER_2,
        duration_minutes=120,
        description="Full-length Paper 2, Principles of Surgery-in-General: 120 single best "
        "answer questions in 2 hours (perioperative care, trauma, common surgical conditions, "
        "surgical care of children and medico-legal practice).",
        blueprint=DEFAULT_BLUEPRINTS[2],
    ),
]


def seed_paper_blueprints(*, stdout: Any, categories: dict[str, Category]) -> None:
    """Writes each paper's documented blueprint where staff have not set one yet."""
    written = 0
    for spec in PaperSpec.objects.filter(categories__isnull=True):
        PaperSpecCategory.objects.bulk_create(
            PaperSpecCategory(spec=spec, category=categories[slug], count=count)
            for slug, count in DEFAULT_BLUEPRINTS[spec.paper].items()
            if slug in categories
        )
        written += 1
    stdout.write(f"exams: paper blueprints written for {written} paper(s) that had none")


def seed_demo(*, stdout: Any) -> None:
    categories = {c.slug: c for c in Category.objects.all()}
    seed_paper_blueprints(stdout=stdout, categories=categories)
    existing = set(
        ExamTemplate.objects.filter(name__in=[t.name for t in DEMO_TEMPLATES]).values_list(
            "name", flat=True
        )
    )
    created = 0
    for spec in DEMO_TEMPLATES:
        if spec.name in existing:
            continue
        present = {slug: n for slug, n in spec.blueprint.items() if slug in categories}
        missing = sorted(set(spec.blueprint) - set(present))
        if missing:
            stdout.write(f"exams: {spec.name}: no categories {', '.join(missing)}; skipped them")
        if not present:
            stdout.write(f"exams: {spec.name}: no blueprint categories at all; not created")
            continue
        template = ExamTemplate.objects.create(
            name=spec.name,
            paper=spec.paper,
            duration_minutes=spec.duration_minutes,
            total_questions=sum(present.values()),
            description=spec.description,
            kind=TemplateKind.BLUEPRINT,
        )
        BlueprintItem.objects.bulk_create(
            BlueprintItem(template=template, category=categories[slug], count=count)
            for slug, count in present.items()
        )
        created += 1
    stdout.write(f"exams: {len(DEMO_TEMPLATES)} demo templates, {created} created")
