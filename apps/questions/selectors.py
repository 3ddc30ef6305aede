"""Reads of the question bank. Candidate-facing reads never carry the answer key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.accounts.models import Role
from apps.accounts.permissions import has_role
from apps.core import sql
from apps.core.exceptions import NotFound
from apps.questions.models import (
    AnswerOption,
    ImportJob,
    Question,
    QuestionMedia,
    QuestionStatus,
)
from apps.taxonomy.models import Category


def published_questions() -> QuerySet[Question]:
    """Questions a candidate may see: published, in an active category."""
    return Question.objects.published()


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


# --- exam papers, written out ------------------------------------------------------------------
# An exam paper has up to 500 questions; building these reads with the ORM (and a model
# instance per option) cost more than running them, so they are written out (apps/core/sql.py)
# and return plain data. On PostgreSQL an id list is one array parameter (``= ANY(%s)``), which
# keeps the statement text fixed; SQLite gets an ``IN`` list.


def _table(model: Any) -> str:
    return sql.quote(str(model._meta.db_table))


@lru_cache(maxsize=64)
def _published_options_sql(vendor: str, count: int) -> str:
    q, o, c = _table(Question), _table(AnswerOption), _table(Category)
    order = sql.quote("order")
    return (
        f"SELECT q.id, o.id FROM {q} q JOIN {c} cat ON cat.id = q.category_id "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"LEFT JOIN {o} o ON o.question_id = q.id "
        f"WHERE {sql.ids_condition('q.id', count)} AND q.status = %s AND cat.is_active = %s "
        f"ORDER BY q.id, o.{order}, o.id"
    )


def published_option_ids(*, question_ids: Sequence[int]) -> dict[int, list[int]]:
    """``{question_id: [option id, ...]}`` for those of ``question_ids`` a candidate may see
    (see :func:`published_questions`), each question's options in display order (as
    :func:`questions_for_display` gives them; ``[]`` for a question without options). One
    statement: what starting an exam of a fixed list needs to check and order the paper."""
    if not question_ids:
        return {}
    found: dict[int, list[int]] = {}
    rows = sql.fetch_all(
        _published_options_sql(connection.vendor, sql.ids_text_key(len(question_ids))),
        [*sql.ids_params(question_ids), QuestionStatus.PUBLISHED, True],
    )
    for question_id, option_id in rows:
        options = found.setdefault(question_id, [])
        if option_id is not None:
            options.append(option_id)
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
    those of the paper's questions in display order (``order``, then name)."""

    category_of: dict[int, int]
    correct_option_ids: dict[int, list[int]]
    categories: list[PaperCategory]


@lru_cache(maxsize=64)
def _paper_key_sql(vendor: str, count: int) -> str:
    q, o, c = _table(Question), _table(AnswerOption), _table(Category)
    order = sql.quote("order")
    return (
        f"SELECT q.id, q.category_id, cat.name, cat.slug, o.id FROM {q} q "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"JOIN {c} cat ON cat.id = q.category_id "
        # The list repeated on the options lets PostgreSQL read them by index (without it, it
        # scans every correct option of the bank).
        f"LEFT JOIN {o} o ON o.question_id = q.id AND o.is_correct = %s "
        f"AND {sql.ids_condition('o.question_id', count)} "
        f"WHERE {sql.ids_condition('q.id', count)} "
        f"ORDER BY cat.{order}, cat.name, q.id, o.id"
    )


def paper_key(*, question_ids: Sequence[int]) -> PaperKey:
    """The answer key, categories and category names of a paper's questions, in one statement.
    Holds the key: only for scoring and for reviewing a submitted paper."""
    category_of: dict[int, int] = {}
    keys: dict[int, list[int]] = {}
    categories: list[PaperCategory] = []
    if not question_ids:
        return PaperKey(category_of, keys, categories)
    rows = sql.fetch_all(
        _paper_key_sql(connection.vendor, sql.ids_text_key(len(question_ids))),
        [True, *sql.ids_params(question_ids), *sql.ids_params(question_ids)],
    )
    for question_id, category_id, name, slug, option_id in rows:
        if question_id not in category_of:
            category_of[question_id] = category_id
            keys[question_id] = []
            if not categories or categories[-1].id != category_id:
                categories.append(PaperCategory(category_id, name, slug))
        if option_id is not None:
            keys[question_id].append(option_id)
    return PaperKey(category_of, keys, categories)


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


@lru_cache(maxsize=64)
def _display_sql(vendor: str, count: int) -> tuple[str, str, str]:
    q, o, m, c = _table(Question), _table(AnswerOption), _table(QuestionMedia), _table(Category)
    order = sql.quote("order")
    return (
        f"SELECT q.id, q.stem, q.type, cat.name FROM {q} q "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"JOIN {c} cat ON cat.id = q.category_id WHERE {sql.ids_condition('q.id', count)}",
        f"SELECT o.question_id, o.id, o.text FROM {o} o "  # noqa: S608  # nosec B608
        f"WHERE {sql.ids_condition('o.question_id', count)} "
        f"ORDER BY o.question_id, o.{order}, o.id",
        f"SELECT m.question_id, m.url, m.kind, m.alt_text, m.caption FROM {m} m "  # noqa: S608  # nosec B608
        f"WHERE {sql.ids_condition('m.question_id', count)} "
        f"ORDER BY m.question_id, m.{order}, m.id",
    )


def display_questions(*, question_ids: Sequence[int]) -> list[DisplayQuestion]:
    """The questions in the order given (ids no longer in the bank left out), as plain data, in
    three statements however many: what :func:`questions_for_display` gives, without a model
    instance per option. Never carries ``is_correct`` or the explanation."""
    if not question_ids:
        return []
    questions_sql, options_sql, media_sql = _display_sql(
        connection.vendor, sql.ids_text_key(len(question_ids))
    )
    params = sql.ids_params(question_ids)
    options: dict[int, list[tuple[int, str]]] = {}
    for question_id, option_id, text in sql.fetch_all(options_sql, params):
        options.setdefault(question_id, []).append((option_id, text))
    media: dict[int, list[dict[str, str]]] = {}
    for question_id, url, kind, alt_text, caption in sql.fetch_all(media_sql, params):
        media.setdefault(question_id, []).append(
            {"url": url, "kind": kind, "alt_text": alt_text, "caption": caption}
        )
    found = {
        row[0]: DisplayQuestion(
            id=row[0],
            stem=row[1],
            type=row[2],
            category=row[3],
            options=options.get(row[0], []),
            media=media.get(row[0], []),
        )
        for row in sql.fetch_all(questions_sql, params)
    }
    return [found[i] for i in question_ids if i in found]


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
    """Full-text search on the stem, best match first. On PostgreSQL this is a ``tsvector``
    match on the expression indexed by migration 0003 (GIN); elsewhere a substring match."""
    text = " ".join(text.split())[:200]
    if not text:
        return qs
    if connection.vendor != "postgresql":
        return qs.filter(stem__icontains=text)
    vector = SearchVector("stem", config="english")
    query = SearchQuery(text, config="english", search_type="websearch")
    return (
        qs.annotate(search=vector)
        .filter(search=query)
        .annotate(rank=SearchRank(vector, query))
        .order_by("-rank", "id")
    )


def import_job_for(*, job_id: int, user: Any) -> ImportJob:
    """The job if ``user`` created it or is an admin; anyone else gets NotFound."""
    qs = ImportJob.objects.select_related("created_by").filter(pk=job_id)
    if not has_role(user, Role.ADMIN):
        qs = qs.filter(created_by=user)
    job = qs.first()
    if job is None:
        raise NotFound("No such import job.")
    return job
