"""Reads of the question bank. Candidate-facing reads never carry the answer key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Prefetch, QuerySet

from apps.questions.models import AnswerOption, Question, QuestionMedia


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


def question_categories(*, question_ids: Iterable[int]) -> dict[int, int]:
    """``{question_id: category_id}`` in one query."""
    return dict(Question.objects.filter(id__in=list(question_ids)).values_list("id", "category_id"))
