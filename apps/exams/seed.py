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

from apps.exams.models import BlueprintItem, ExamPaper, ExamTemplate, TemplateKind
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
        blueprint={
            "anatomy-embryology": 75,
            "physiology": 45,
            "pathology": 30,
            "haematology-transfusion": 7,
            "pharmacology": 8,
            "microbiology": 7,
            "imaging": 5,
            "research-audit": 3,
        },
    ),
    DemoTemplate(
        name="Exam A, Paper 2",
        paper=ExamPaper.PAPER_2,
        duration_minutes=120,
        description="Full-length Paper 2, Principles of Surgery-in-General: 120 single best "
        "answer questions in 2 hours (perioperative care, trauma, common surgical conditions, "
        "surgical care of children and medico-legal practice).",
        blueprint={
            "perioperative-care": 25,
            "critical-care": 10,
            "trauma": 30,
            "paediatric-surgery": 7,
            "management-legal": 5,
            "surgical-technique-technology": 3,
            "general-surgery": 10,
            "cancer-palliative-care": 6,
            "vascular-surgery": 4,
            "urology": 4,
            "orthopaedics": 4,
            "breast-endocrine": 3,
            "ent": 2,
            "neurosurgery": 2,
            "cardiothoracic-surgery": 2,
            "plastic-surgery": 2,
            "oral-maxillofacial": 1,
        },
    ),
]


def seed_demo(*, stdout: Any) -> None:
    categories = {c.slug: c for c in Category.objects.all()}
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
