"""The exam as the colleges set it: each paper's length, time, minimum mark and blueprint, and
the combined pass mark (``shared/mrcs-exam.md``). Staff keep them in the admin
(:class:`~apps.exams.models.PaperSpec`, :class:`~apps.exams.models.PassStandard`); until they
do, the documented defaults below apply. Readiness predicts against these and mocks that claim
to be a paper follow them: this module is their one home."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.exams.models import PaperSpec, PaperSpecCategory, PassStandard
from apps.taxonomy.models import Category

# The documented blueprints of shared/mrcs-exam.md written in this bank's syllabus: Paper 1's
# pathology 37 is general and systemic pathology (30) with haematology and transfusion (7);
# Paper 2's "common congenital and acquired conditions" (45) is spread over the specialty
# categories and perioperative management (35) over perioperative and critical care.
DEFAULT_BLUEPRINTS: dict[int, dict[str, int]] = {
    1: {
        "anatomy-embryology": 75,
        "physiology": 45,
        "pathology": 30,
        "haematology-transfusion": 7,
        "pharmacology": 8,
        "microbiology": 7,
        "imaging": 5,
        "research-audit": 3,
    },
    2: {
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
}

# paper -> (name, questions, minutes, minimum %): as migration 0003 writes them.
DEFAULT_PAPERS: dict[int, tuple[str, int, int, int]] = {
    1: ("Paper 1, Applied Basic Sciences", 180, 180, 70),
    2: ("Paper 2, Principles of Surgery in General", 120, 120, 70),
}
DEFAULT_COMBINED_PASS_MARK_PERCENT = 73


@dataclass(frozen=True)
class PaperStandard:
    paper: int
    name: str
    question_count: int
    duration_minutes: int
    minimum_percent: int
    # category id -> questions on the paper (counts sum to the paper's blueprint total, which
    # may differ from question_count while staff edit; weights use the blueprint's own total)
    blueprint: dict[int, int] = field(default_factory=dict)
    category_slugs: dict[int, str] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)

    @property
    def blueprint_total(self) -> int:
        return sum(self.blueprint.values())

    def weight(self, category_id: int) -> float:
        """The share of the paper that ``category_id`` makes up (0 when not on it)."""
        total = self.blueprint_total
        return self.blueprint.get(category_id, 0) / total if total else 0.0


@dataclass(frozen=True)
class PartAStandard:
    papers: tuple[PaperStandard, ...]
    combined_pass_mark_percent: int

    @property
    def question_count(self) -> int:
        return sum(p.question_count for p in self.papers)

    def paper(self, number: int) -> PaperStandard:
        return next(p for p in self.papers if p.paper == number)


def part_a_standard() -> PartAStandard:
    """Both papers with their blueprints and the combined pass mark: four small queries.

    A paper with no blueprint rows yet takes :data:`DEFAULT_BLUEPRINTS` over the categories that
    exist (by slug), so a fresh install predicts and draws to the documented blueprint."""
    specs = {spec.paper: spec for spec in PaperSpec.objects.all()}
    rows: dict[int, list[tuple[Category, int]]] = {}
    for item in PaperSpecCategory.objects.select_related("category", "spec"):
        rows.setdefault(item.spec.paper, []).append((item.category, item.count))
    default_slugs = {slug for blueprint in DEFAULT_BLUEPRINTS.values() for slug in blueprint}
    by_slug = {c.slug: c for c in Category.objects.filter(slug__in=default_slugs)}
    papers = []
    for number, (name, questions, minutes, minimum) in sorted(DEFAULT_PAPERS.items()):
        spec = specs.get(number)
        entries = rows.get(number) or [
            (by_slug[slug], count)
            for slug, count in DEFAULT_BLUEPRINTS[number].items()
            if slug in by_slug
        ]
        papers.append(
            PaperStandard(
                paper=number,
                name=spec.name if spec else name,
                question_count=spec.question_count if spec else questions,
                duration_minutes=spec.duration_minutes if spec else minutes,
                minimum_percent=spec.minimum_percent if spec else minimum,
                blueprint={category.pk: count for category, count in entries},
                category_slugs={category.pk: category.slug for category, _ in entries},
                category_names={category.pk: category.name for category, _ in entries},
            )
        )
    standard = PassStandard.objects.filter(id=1).first()
    combined = (
        standard.combined_pass_mark_percent if standard else DEFAULT_COMBINED_PASS_MARK_PERCENT
    )
    return PartAStandard(papers=tuple(papers), combined_pass_mark_percent=combined)


def scaled_blueprint(paper: PaperStandard, total: int) -> dict[int, int]:
    """``paper``'s blueprint scaled to ``total`` questions, keeping its proportions: each
    category gets the whole part of its share and the questions left go to the largest
    remainders (ties: the larger category, then the blueprint's order). Categories whose share
    rounds to nothing are left out; the counts add up to ``total`` (0 for an empty blueprint)."""
    whole = paper.blueprint_total
    if not whole or total < 1:
        return {}
    order = list(paper.blueprint)
    counts = {cid: n * total // whole for cid, n in paper.blueprint.items()}
    left = total - sum(counts.values())
    # The remainder of n * total / whole, in units of 1 / whole: exact, no floating point.
    ranked = sorted(
        order,
        key=lambda cid: (
            -(paper.blueprint[cid] * total % whole),
            -paper.blueprint[cid],
            order.index(cid),
        ),
    )
    for cid in ranked[:left]:
        counts[cid] += 1
    return {cid: n for cid, n in counts.items() if n}


def scaled_minutes(paper: PaperStandard, total: int) -> int:
    """The paper's time for ``total`` of its questions (its time per question, halves rounded
    up; at least a minute)."""
    if paper.question_count < 1:
        return max(1, total)
    return max(
        1, (2 * paper.duration_minutes * total + paper.question_count) // (2 * paper.question_count)
    )
