"""Reads of the question bank. Candidate-facing reads never carry the answer key."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Prefetch, QuerySet

from apps.accounts.models import Role, User
from apps.accounts.permissions import has_role
from apps.core.exceptions import NotFound
from apps.questions import statements
from apps.questions.models import (
    AnswerOption,
    ImportJob,
    Question,
    QuestionMedia,
    QuestionVersion,
)


def published_questions() -> QuerySet[Question]:
    """Questions a candidate may see: published, in an active category."""
    return Question.objects.published()


_BANK_COUNT_SECONDS = 60.0
_bank_count: list[tuple[float, int]] = []  # (read at, count), one entry per process


def published_question_count() -> int:
    """How many questions a candidate may see, read at most once a minute per process: counting
    the bank costs milliseconds that grow with it, and the dashboard's day would pay them on
    every miss. A question published or retired shows in the count within the minute."""
    now = time.monotonic()
    if _bank_count and now - _bank_count[0][0] < _BANK_COUNT_SECONDS:
        return _bank_count[0][1]
    count = published_questions().count()
    _bank_count[:] = [(now, count)]
    return count


def forget_published_question_count() -> None:
    _bank_count.clear()


def drawable_question_ids(
    *,
    category_slugs: Sequence[str] = (),
    subcategory_slugs: Sequence[str] = (),
    category_ids: Sequence[int] = (),
) -> list[int]:
    """Ids of published questions in the given categories/subcategories (all if none given),
    in id order, so that a stored random seed reproduces the same draw."""
    qs = published_questions()
    if category_slugs:
        qs = qs.filter(category__slug__in=list(category_slugs))
    if category_ids:
        qs = qs.filter(category_id__in=list(category_ids))
    if subcategory_slugs:
        qs = qs.filter(subcategory__slug__in=list(subcategory_slugs))
    return list(qs.order_by("id").values_list("id", flat=True))


def questions_for_display(*, question_ids: Iterable[int]) -> list[Question]:
    """Questions with options (ordered) and media in the order given, in a fixed number of
    queries. The caller must not expose ``AnswerOption.is_correct`` or ``explanation``."""
    ids = list(question_ids)
    rows = (
        Question.objects.filter(id__in=ids)
        .select_related("category", "subcategory")
        .prefetch_related(
            Prefetch("options", queryset=AnswerOption.objects.order_by("order", "id")),
            Prefetch("media", queryset=QuestionMedia.objects.order_by("order", "id")),
        )
    )
    by_id = {q.id: q for q in rows}
    return [by_id[i] for i in ids if i in by_id]


def option_ids_by_question(*, question_ids: Iterable[int]) -> dict[int, list[int]]:
    """``{question_id: [option id, ...]}`` with each question's options in display order (as
    :func:`questions_for_display` gives them), in one light query; questions without options
    are left out."""
    options: dict[int, list[int]] = {}
    rows = (
        AnswerOption.objects.filter(question_id__in=list(question_ids))
        .order_by("question_id", "order", "id")
        .values_list("question_id", "id")
    )
    for question_id, option_id in rows:
        options.setdefault(question_id, []).append(option_id)
    return options


def question_categories(*, question_ids: Iterable[int]) -> dict[int, int]:
    """``{question_id: category_id}`` in one query."""
    return dict(Question.objects.filter(id__in=list(question_ids)).values_list("id", "category_id"))


# --- exam papers -------------------------------------------------------------------------------
# An exam paper has up to 500 questions; building these reads with the ORM on every call (and a
# model instance per option) cost more than running them, so they run querysets compiled once
# per process (apps/questions/statements.py) and return plain data.


def published_option_ids(*, question_ids: Sequence[int]) -> dict[int, list[int]]:
    """``{question_id: [option id, ...]}`` for those of ``question_ids`` a candidate may see
    (see :func:`published_questions`), each question's options in display order (as
    :func:`questions_for_display` gives them; ``[]`` for a question without options). One
    statement: what starting an exam of a fixed list needs to check and order the paper."""
    if not question_ids:
        return {}
    found: dict[int, list[int]] = {}
    for row in statements.PUBLISHED_OPTIONS.fetch(ids=list(question_ids)):
        options = found.setdefault(row["id"], [])
        if row["options__id"] is not None:
            options.append(row["options__id"])
    return found


@dataclass(frozen=True)
class PaperCategory:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class PaperKey:
    """What scoring a paper needs. ``category_of`` holds the questions that still exist (one
    hard-deleted since the paper was drawn is missing); ``correct_option_ids`` is the answer key
    (sorted ids, as :func:`apps.questions.grading.answer_keys` gives it); ``categories`` are
    those of the paper's questions in display order (``order``, then name); ``version_of`` is
    the version each key belongs to (what a graded answer records)."""

    category_of: dict[int, int]
    correct_option_ids: dict[int, list[int]]
    categories: list[PaperCategory]
    version_of: dict[int, int] = field(default_factory=dict)


def paper_key(*, question_ids: Sequence[int]) -> PaperKey:
    """The answer key, categories and category names of a paper's questions, in one statement.
    Holds the key: only for scoring and for reviewing a submitted paper."""
    category_of: dict[int, int] = {}
    keys: dict[int, list[int]] = {}
    versions: dict[int, int] = {}
    categories: list[PaperCategory] = []
    if not question_ids:
        return PaperKey(category_of, keys, categories, versions)
    for row in statements.PAPER_KEY.fetch(ids=list(question_ids)):
        question_id, category_id = row["id"], row["category_id"]
        if question_id not in category_of:
            category_of[question_id] = category_id
            keys[question_id] = []
            versions[question_id] = row["version"]
            if not categories or categories[-1].id != category_id:
                categories.append(
                    PaperCategory(category_id, row["category__name"], row["category__slug"])
                )
        if row["correct__id"] is not None:
            keys[question_id].append(row["correct__id"])
    return PaperKey(category_of, keys, categories, versions)


@dataclass(frozen=True)
class DisplayQuestion:
    """A question as a candidate sees it, without the key: options (id, text) and media in
    display order, the category's name."""

    id: int
    stem: str
    type: str
    category: str
    options: list[tuple[int, str]]
    media: list[dict[str, str]]


def display_questions(*, question_ids: Sequence[int]) -> list[DisplayQuestion]:
    """The questions in the order given (ids no longer in the bank left out), as plain data, in
    three statements however many: what :func:`questions_for_display` gives, without a model
    instance per option. Never carries ``is_correct`` or the explanation."""
    if not question_ids:
        return []
    ids = list(question_ids)
    options: dict[int, list[tuple[int, str]]] = {}
    for row in statements.DISPLAY_OPTIONS.fetch(ids=ids):
        options.setdefault(row["question_id"], []).append((row["id"], row["text"]))
    media: dict[int, list[dict[str, str]]] = {}
    for row in statements.DISPLAY_MEDIA.fetch(ids=ids):
        question_id = row.pop("question_id")
        media.setdefault(question_id, []).append(row)
    found = {
        row["id"]: DisplayQuestion(
            id=row["id"],
            stem=row["stem"],
            type=row["type"],
            category=row["category__name"],
            options=options.get(row["id"], []),
            media=media.get(row["id"], []),
        )
        for row in statements.DISPLAY_QUESTIONS.fetch(ids=ids)
    }
    return [found[i] for i in ids if i in found]


# --- the question API and staff tools -------------------------------------------------------
def _with_display_relations(qs: QuerySet[Question]) -> QuerySet[Question]:
    return qs.select_related("category", "subcategory").prefetch_related(
        Prefetch("options", queryset=AnswerOption.objects.order_by("order", "id")),
        Prefetch("media", queryset=QuestionMedia.objects.order_by("order", "id")),
        "tags",
    )


def question_list(*, staff: bool = False) -> QuerySet[Question]:
    """Questions for the list endpoint with everything the serializers touch prefetched (a
    fixed number of queries per page). Candidates get published questions in active
    categories; staff get every question."""
    base = Question.objects.all() if staff else published_questions()
    return _with_display_relations(base).order_by("id")


def question_detail(*, question_id: int, staff: bool = False) -> Question:
    """One question as the list shows it; a question the caller may not see is NotFound."""
    question = question_list(staff=staff).filter(id=question_id).first()
    if question is None:
        raise NotFound("No such question.")
    return question


def search_questions(qs: QuerySet[Question], text: str) -> QuerySet[Question]:
    """Full-text search on the stem, best match first: a ``tsvector`` match on the expression
    indexed by migration 0003 (GIN)."""
    text = " ".join(text.split())[:200]
    if not text:
        return qs
    vector = SearchVector("stem", config="english")
    query = SearchQuery(text, config="english", search_type="websearch")
    return (
        qs.annotate(search=vector)
        .filter(search=query)
        .annotate(rank=SearchRank(vector, query))
        .order_by("-rank", "id")
    )


def import_job_for(*, job_id: int, user: User) -> ImportJob:
    """The job if ``user`` created it or is an admin; anyone else gets NotFound."""
    qs = ImportJob.objects.select_related("created_by").filter(pk=job_id)
    if not has_role(user, Role.ADMIN):
        qs = qs.filter(created_by=user)
    job = qs.first()
    if job is None:
        raise NotFound("No such import job.")
    return job


# --- versions --------------------------------------------------------------------------------
def version_of(*, question_id: int, number: int) -> QuestionVersion | None:
    """The snapshot of a question at one version number (None if there is none: a question
    never edited since before version history began)."""
    return QuestionVersion.objects.filter(question_id=question_id, number=number).first()


def versions_of(*, question_id: int) -> list[QuestionVersion]:
    """A question's history, oldest first."""
    return list(QuestionVersion.objects.filter(question_id=question_id).order_by("number"))


def versions_by_number(
    *, keys: Iterable[tuple[int, int | None]]
) -> dict[tuple[int, int], QuestionVersion]:
    """The snapshots for many (question id, version number) pairs in one query, keyed by the
    pair; pairs without a number or a snapshot are absent (for a page of attempts)."""
    wanted = {(qid, number) for qid, number in keys if number is not None}
    if not wanted:
        return {}
    rows = QuestionVersion.objects.filter(
        question_id__in={qid for qid, _ in wanted}, number__in={n for _, n in wanted}
    )
    return {(v.question_id, v.number): v for v in rows if (v.question_id, v.number) in wanted}


def version_history(*, question_ids: Iterable[int]) -> dict[int, list[QuestionVersion]]:
    """``{question_id: [snapshot, ...]}`` oldest first, for many questions in one query (what a
    review needs to show each answer the version it was graded on)."""
    history: dict[int, list[QuestionVersion]] = {}
    rows = QuestionVersion.objects.filter(question_id__in=list(question_ids)).order_by(
        "question_id", "number"
    )
    for version in rows:
        history.setdefault(version.question_id, []).append(version)
    return history


def graded_version(
    history: Sequence[QuestionVersion], *, number: int | None, at: datetime | None
) -> QuestionVersion | None:
    """Of a question's ``history`` (oldest first), the snapshot an answer was graded on: the
    one numbered ``number`` when the answer recorded it. Without a number (an exam answer
    graded before versions were recorded, an exam question left unanswered) it is the latest
    snapshot made by ``at`` (when the answer was graded), else the oldest one kept (history
    began after ``at``). ``None`` when there is no such snapshot: the question has not been
    edited since, so the caller shows it as it is now."""
    if number is not None:
        return next((v for v in history if v.number == number), None)
    if not history:
        return None
    made_by = [v for v in history if at is not None and v.created_at <= at]
    return made_by[-1] if made_by else history[0]
