"""Reads of the question bank. Candidate-facing reads never carry the answer key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.accounts.models import Role
from apps.accounts.permissions import has_role
from apps.core.exceptions import NotFound
from apps.questions.models import AnswerOption, ImportJob, Question, QuestionMedia


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
