"""Writes to the question bank, applying the integrity rules of
:mod:`apps.questions.services.rules`:

- every question has at least two options (at most ``MAX_OPTIONS``), none blank, no two alike;
- a single-best-answer question has exactly one correct option, a multiple-response question
  at least one;
- ``version`` increments whenever the stem, the options, the key, the type or the explanation
  change, and each version is kept as a snapshot (:mod:`apps.questions.services.versions`), so
  that past attempts (which keep the version they were answered at) can show what they were
  marked against;
- a question that has been answered is never hard-deleted: deleting it retires it.

Staff writes are recorded in the audit trail with before and after values. The rules and the
answer statistics (:mod:`apps.questions.services.statistics`) are re-exported here for the
callers that import them from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from django.db import transaction
from django.db.models import ProtectedError

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed
from apps.core.richtext import sanitize_html
from apps.questions.models import (
    AnswerOption,
    MediaKind,
    Question,
    QuestionMedia,
    QuestionStatus,
    QuestionType,
)
from apps.questions.services.rules import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    OptionSpec,
    check_unique_stem,
    validate_fields,
    validate_option_set,
)
from apps.questions.services.statistics import question_stats_sql, record_question_stats
from apps.questions.services.versions import snapshot_question
from apps.taxonomy.models import Category, Subcategory
from apps.taxonomy.services import forget_category_question_counts, tags_for_names

__all__ = [
    "MAX_OPTIONS",
    "MIN_OPTIONS",
    "OptionSpec",
    "category_counts_changed",
    "create_question",
    "delete_question",
    "options_signature",
    "publish_question",
    "question_snapshot",
    "question_stats_sql",
    "record_question_stats",
    "retire_question",
    "set_status_bulk",
    "update_question",
    "validate_option_set",
]

MediaSpec = Mapping[str, Any]  # {"url": str, "kind"?: str, "alt_text"?: str, "caption"?: str}

_SIMPLE_FIELDS = ("stem", "type", "category", "subcategory", "difficulty", "explanation")
_TEXT_FIELDS = ("reference",)


# --- audit snapshots -------------------------------------------------------------------------
def question_snapshot(question: Question) -> dict[str, Any]:
    """A JSON-safe picture of the question as staff edit it (for the audit trail)."""
    return {
        "stem": question.stem,
        "type": question.type,
        "status": question.status,
        "version": question.version,
        "category": question.category.slug if question.category_id else None,
        "subcategory": question.subcategory.slug if question.subcategory is not None else None,
        "difficulty": question.difficulty,
        "explanation": question.explanation,
        "reference": question.reference,
        "tags": sorted(question.tags.values_list("name", flat=True)) if question.pk else [],
        "options": [
            {"id": o.pk, "text": o.text, "is_correct": o.is_correct, "order": o.order}
            for o in question.options.order_by("order", "id")
        ]
        if question.pk
        else [],
        "media": [
            {"url": m.url, "kind": m.kind, "alt_text": m.alt_text, "caption": m.caption}
            for m in question.media.order_by("order", "id")
        ]
        if question.pk
        else [],
    }


def options_signature(options: Iterable[Any]) -> list[tuple[str, bool]]:
    """What the version depends on: the option texts, their order and the key."""
    return [(o.text, bool(o.is_correct)) for o in options]


def _audit(action: str, *, actor: User | None, question: Question, before: Any, after: Any) -> None:
    record_event(
        kind="content",
        action=f"question.{action}",
        actor=actor,
        target=question,
        before=before,
        after=after,
    )


# --- writes ----------------------------------------------------------------------------------
def category_counts_changed() -> None:
    """The published question counts per category (cached by taxonomy) change with this
    transaction: forget them once it commits."""
    transaction.on_commit(forget_category_question_counts)


def _replace_options(question: Question, options: Sequence[OptionSpec]) -> None:
    """Makes the question's options exactly ``options``: entries with an ``id`` of one of its
    options update that option (keeping its id, which past attempts refer to), entries without
    one are created, and options not listed are removed."""
    existing = {o.pk: o for o in question.options.all()}
    foreign = [
        option["id"] for option in options if option.get("id") and option["id"] not in existing
    ]
    if foreign:
        raise ValidationFailed(
            "Some option ids do not belong to this question.",
            fields={"options": [f"Unknown option id(s): {sorted(foreign)}."]},
        )
    kept: set[int] = set()
    to_update: list[AnswerOption] = []
    to_create: list[AnswerOption] = []
    for order, spec in enumerate(options):
        text = sanitize_html(str(spec.get("text") or ""))
        is_correct = bool(spec.get("is_correct"))
        option_id = spec.get("id")
        if option_id:
            option = existing[option_id]
            kept.add(option_id)
            option.text, option.is_correct, option.order = text, is_correct, order
            to_update.append(option)
        else:
            to_create.append(
                AnswerOption(question=question, text=text, is_correct=is_correct, order=order)
            )
    stale = [pk for pk in existing if pk not in kept]
    if stale:
        AnswerOption.objects.filter(id__in=stale).delete()
    if to_update:
        AnswerOption.objects.bulk_update(to_update, ["text", "is_correct", "order"])
    if to_create:
        AnswerOption.objects.bulk_create(to_create)


def _replace_media(question: Question, media: Sequence[MediaSpec]) -> None:
    question.media.all().delete()
    QuestionMedia.objects.bulk_create(
        [
            QuestionMedia(
                question=question,
                url=str(item["url"]),
                kind=str(item.get("kind") or MediaKind.IMAGE),
                alt_text=str(item.get("alt_text") or "")[:300],
                caption=str(item.get("caption") or "")[:300],
                order=order,
            )
            for order, item in enumerate(media)
        ]
    )


@transaction.atomic
def create_question(
    *,
    actor: User | None,
    stem: str,
    category: Category,
    options: Sequence[OptionSpec],
    type: str = QuestionType.SINGLE,
    subcategory: Subcategory | None = None,
    difficulty: int = 3,
    explanation: str = "",
    reference: str = "",
    status: str = QuestionStatus.DRAFT,
    tags: Iterable[str] = (),
    media: Sequence[MediaSpec] = (),
    is_synthetic: bool = False,
    audit: bool = True,
) -> Question:
    """Creates a question with its options (and media, tags) in one transaction.

    Raises :class:`ValidationFailed` (``fields`` name what is wrong) when a rule is broken or
    the normalised stem is already in the bank; nothing is written then."""
    errors = validate_fields(
        stem=stem, difficulty=difficulty, category=category, subcategory=subcategory
    )
    option_errors = validate_option_set(type=type, options=options)
    if option_errors:
        errors["options"] = option_errors
    if status not in QuestionStatus.values:
        errors["status"] = [f"Unknown status {status!r}."]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    check_unique_stem(stem=stem)
    question = Question.objects.create(
        stem=stem,
        type=type,
        category=category,
        subcategory=subcategory,
        difficulty=difficulty,
        explanation=explanation,
        reference=reference[:500],
        status=status,
        is_synthetic=is_synthetic,
        created_by=actor if getattr(actor, "pk", None) else None,
        updated_by=actor if getattr(actor, "pk", None) else None,
    )
    _replace_options(question, [{**o, "id": None} for o in options])
    if media:
        _replace_media(question, media)
    tag_objects = tags_for_names(names=tags)
    if tag_objects:
        question.tags.set(tag_objects)
    snapshot_question(question=question, by=actor, reason="Created.")
    if audit:
        _audit(
            "create", actor=actor, question=question, before=None, after=question_snapshot(question)
        )
    if question.status == QuestionStatus.PUBLISHED:
        category_counts_changed()
    return question


@transaction.atomic
def update_question(
    *,
    question: Question | int,
    actor: User | None,
    options: Sequence[OptionSpec] | None = None,
    media: Sequence[MediaSpec] | None = None,
    tags: Iterable[str] | None = None,
    reason: str = "",
    **changes: Any,
) -> Question:
    """Applies a partial update. ``options`` (when given) is the complete new option set; see
    :func:`_replace_options` for how ids are matched. Changing the stem, the options, the key,
    the type or the explanation makes a new version (``reason`` is stored on it). Field names
    accepted in ``changes``: stem, type, category, subcategory, difficulty, explanation,
    reference, status."""
    question_id = question if isinstance(question, int) else question.pk
    q = (
        Question.objects.select_for_update(of=("self",))
        .select_related("category", "subcategory")
        .get(pk=question_id)
    )
    unknown = set(changes) - {*_SIMPLE_FIELDS, *_TEXT_FIELDS, "status"}
    if unknown:
        raise ValueError(f"update_question does not accept {sorted(unknown)}")
    snapshot_question(question=q, by=actor)  # the content before this edit, if not kept yet
    before = question_snapshot(q)

    for field, value in changes.items():
        setattr(q, field, value)
    moved = "category" in changes and "subcategory" not in changes
    if moved and q.subcategory is not None and q.subcategory.category_id != q.category_id:
        q.subcategory = None
    errors = validate_fields(
        stem=q.stem, difficulty=q.difficulty, category=q.category, subcategory=q.subcategory
    )
    if q.status not in QuestionStatus.values:
        errors["status"] = [f"Unknown status {q.status!r}."]
    new_options: list[OptionSpec] = (
        list(options)
        if options is not None
        else [{"id": o.pk, "text": o.text, "is_correct": o.is_correct} for o in q.options.all()]
    )
    option_errors = validate_option_set(type=q.type, options=new_options)
    if option_errors:
        errors["options"] = option_errors
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    if "stem" in changes:
        check_unique_stem(stem=q.stem, exclude_id=q.pk)

    if options is not None:
        _replace_options(q, new_options)
    q.updated_by = actor if getattr(actor, "pk", None) else None
    q.save()
    snapshot_question(question=q, by=actor, reason=reason)  # sets q.version if it changed
    if media is not None:
        _replace_media(q, media)
    if tags is not None:
        q.tags.set(tags_for_names(names=tags))
    after = question_snapshot(q)
    if after != before:
        _audit("update", actor=actor, question=q, before=before, after=after)
    if after["status"] != before["status"] or after["category"] != before["category"]:
        category_counts_changed()
    return q


def _set_status(
    *, question: Question | int, actor: User | None, status: str, action: str
) -> Question:
    question_id = question if isinstance(question, int) else question.pk
    q = Question.objects.select_for_update().get(pk=question_id)
    if q.status == status:
        return q
    before = {"status": q.status}
    q.status = status
    q.updated_by = actor if getattr(actor, "pk", None) else None
    q.save(update_fields=["status", "updated_by", "updated_at"])
    _audit(action, actor=actor, question=q, before=before, after={"status": status})
    category_counts_changed()
    return q


@transaction.atomic
def publish_question(*, question: Question | int, actor: User | None) -> Question:
    """Makes the question visible to candidates (after re-checking its option set)."""
    question_id = question if isinstance(question, int) else question.pk
    q = Question.objects.get(pk=question_id)
    errors = validate_option_set(
        type=q.type,
        options=[{"text": o.text, "is_correct": o.is_correct} for o in q.options.all()],
    )
    if errors:
        raise ValidationFailed(errors[0], fields={"options": errors})
    return _set_status(question=q, actor=actor, status=QuestionStatus.PUBLISHED, action="publish")


@transaction.atomic
def retire_question(*, question: Question | int, actor: User | None) -> Question:
    """Withdraws the question from candidates; its attempts and statistics stay."""
    return _set_status(
        question=question, actor=actor, status=QuestionStatus.RETIRED, action="retire"
    )


@transaction.atomic
def delete_question(
    *, question: Question | int, actor: User | None
) -> Literal["deleted", "retired"]:
    """Hard-deletes a question nobody has answered; an answered question (or one that other
    records still point at) is retired instead. Returns what happened."""
    question_id = question if isinstance(question, int) else question.pk
    q = (
        Question.objects.select_for_update(of=("self",))
        .select_related("category", "subcategory")
        .get(pk=question_id)
    )
    if q.has_been_answered:
        retire_question(question=q, actor=actor)
        return "retired"
    before = question_snapshot(q)
    try:
        with transaction.atomic():
            Question.objects.filter(pk=q.pk).delete()
    except ProtectedError:
        retire_question(question=q, actor=actor)
        return "retired"
    category_counts_changed()
    record_event(
        kind="content",
        action="question.delete",
        actor=actor,
        target_type="questions.question",
        target_id=question_id,
        before=before,
        after=None,
    )
    return "deleted"


def set_status_bulk(*, question_ids: Iterable[int], status: str, actor: User | None) -> int:
    """Publishes or retires many questions (admin actions); returns how many changed. Each
    change is audited; a question whose option set is invalid is skipped when publishing."""
    changed = 0
    for question_id in sorted(set(question_ids)):
        with transaction.atomic():
            current = Question.objects.filter(pk=question_id).values_list("status", flat=True)
            old = current.first()
            if old is None or old == status:
                continue
            try:
                if status == QuestionStatus.PUBLISHED:
                    publish_question(question=question_id, actor=actor)
                elif status == QuestionStatus.RETIRED:
                    retire_question(question=question_id, actor=actor)
                else:
                    _set_status(question=question_id, actor=actor, status=status, action="draft")
            except ValidationFailed:
                continue
            changed += 1
    return changed
