"""Demo exam templates: mocks that claim to be Paper 1 or Paper 2 of MRCS Part A, so they are
paper templates (``TemplateKind.PAPER``): single best answer questions only, drawn to the
paper's blueprint (:func:`~apps.exams.selectors.standards.part_a_standard`) scaled to their
length, in the paper's time per question. Two short mocks the demo bank can fill, and the two
full-length papers (180 questions in 3 hours; 120 in 2 hours), listed as unavailable until the
bank holds enough single best answer questions in each category.

Each description is written from the plan the template draws (:func:`plan_summary`), so it
says exactly what a session gets (tests/exams/test_seed.py starts each one and compares).

Idempotent: a template whose name already exists is left exactly as it is (an examiner may have
changed it), except a demo mock still exactly as an earlier seed wrote it (a blueprint template
with that seed's description), which is brought to the paper form: its description promised
single best answer questions its blueprint did not keep to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.exams.models import (
    BlueprintItem,
    ExamPaper,
    ExamTemplate,
    PaperSpec,
    PaperSpecCategory,
    TemplateKind,
)
from apps.exams.selectors.drawing import DrawPlan, draw_plan, plan_summary
from apps.exams.selectors.standards import DEFAULT_BLUEPRINTS, PartAStandard, part_a_standard
from apps.taxonomy.models import Category


@dataclass(frozen=True)
class DemoTemplate:
    name: str
    paper: int
    questions: int


DEMO_TEMPLATES = [
    DemoTemplate(name="Demo Mock, Paper 1", paper=ExamPaper.PAPER_1, questions=20),
    DemoTemplate(name="Demo Mock, Paper 2", paper=ExamPaper.PAPER_2, questions=20),
    DemoTemplate(name="Exam A, Paper 1", paper=ExamPaper.PAPER_1, questions=180),
    DemoTemplate(name="Exam A, Paper 2", paper=ExamPaper.PAPER_2, questions=120),
]

# What earlier seeds wrote for the blueprint mocks (see the module docstring).
EARLIER_DESCRIPTIONS = frozenset(
    {
        "A 30-minute taster of Paper 1 (Applied Basic Sciences): 20 single best answer questions "
        "across anatomy, physiology, pathology, pharmacology, microbiology and research.",
        "A 30-minute taster of Paper 2 (Principles of Surgery-in-General): 20 questions on "
        "common surgical conditions, perioperative care, trauma and the medico-legal aspects "
        "of practice.",
        "Full-length Paper 1, Applied Basic Sciences: 180 single best answer questions in 3 "
        "hours, weighted like the real paper (anatomy 75, physiology 45, pathology 37, "
        "pharmacology 8, microbiology 7, imaging 5, statistics and audit 3).",
        "Full-length Paper 2, Principles of Surgery-in-General: 120 single best answer questions "
        "in 2 hours (perioperative care, trauma, common surgical conditions, surgical care of "
        "children and medico-legal practice).",
    }
)


def describe(spec: DemoTemplate, plan: DrawPlan, standard: PartAStandard) -> str:
    """The description of a demo paper mock: what its plan draws and in what time."""
    paper = standard.paper(spec.paper)
    if spec.questions >= paper.question_count:
        scope = f"Full-length {paper.name}"
        blueprint = "the paper's blueprint"
    else:
        scope = f"A taster of {paper.name}"
        blueprint = "the paper's blueprint scaled to this length"
    return (
        f"{scope}: {plan_summary(plan)}. {plan.duration_minutes} minutes, the paper's time per "
        f"question. Drawn to {blueprint}; questions you have not met come first and no question "
        "repeats across your mocks until its category runs out."
    )


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


def _as_paper_template(template: ExamTemplate, spec: DemoTemplate, standard: PartAStandard) -> None:
    """Sets ``template`` (saved or not) to the demo paper mock ``spec``."""
    template.paper = spec.paper
    template.kind = TemplateKind.PAPER
    template.total_questions = spec.questions
    plan = draw_plan(template, standard=standard)
    template.duration_minutes = plan.duration_minutes
    template.description = describe(spec, plan, standard)


@transaction.atomic
def seed_demo(*, stdout: Any) -> None:
    categories = {c.slug: c for c in Category.objects.all()}
    seed_paper_blueprints(stdout=stdout, categories=categories)
    standard = part_a_standard()
    existing = {
        t.name: t
        for t in ExamTemplate.objects.filter(name__in=[spec.name for spec in DEMO_TEMPLATES])
    }
    created = updated = 0
    for spec in DEMO_TEMPLATES:
        if not standard.paper(spec.paper).blueprint:
            stdout.write(f"exams: {spec.name}: paper {spec.paper} has no blueprint; not created")
            continue
        template = existing.get(spec.name)
        if template is None:
            template = ExamTemplate(name=spec.name)
            _as_paper_template(template, spec, standard)
            template.save()
            created += 1
        elif (
            template.kind == TemplateKind.BLUEPRINT and template.description in EARLIER_DESCRIPTIONS
        ):
            BlueprintItem.objects.filter(template=template).delete()
            _as_paper_template(template, spec, standard)
            template.save()
            updated += 1
    stdout.write(
        f"exams: {len(DEMO_TEMPLATES)} demo templates, {created} created, "
        f"{updated} brought to their paper's standard"
    )
