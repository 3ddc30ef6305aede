"""Question versions: an immutable snapshot of what a question said (stem, explanation, type,
options, key) at each ``Question.version`` number.

Why: attempts store the version they were answered at, and a review must show the key and the
explanation the candidate was marked against even after an editor changes them; item analysis
keeps its statistics apart per version. The rules:

- every path that changes a question's stem, options, key or explanation (the services, the
  Django Admin, the bulk import, a re-key) calls :func:`snapshot_question` after the change,
  inside its transaction;
- a new version is made only when that content differs from the latest snapshot; it takes the
  next number, and ``Question.version`` is set to it;
- a question with no snapshot yet (one made by a fixture or a raw write) must not lose its old
  content to the edit: edit paths also call :func:`snapshot_question` *before* changing it
  (a no-op when the latest snapshot is current);
- versions are never updated (:meth:`QuestionVersion.save` refuses), only added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core.exceptions import Conflict, NotFound, ValidationFailed
from apps.questions.models import AnswerOption, Question, QuestionVersion
from apps.questions.services.rules import validate_option_set

__all__ = [
    "content_of",
    "rekey_question",
    "snapshot_new_questions",
    "snapshot_question",
]


def _options_of(question_id: int) -> list[dict[str, Any]]:
    return [
        {"id": o.pk, "text": o.text, "is_correct": o.is_correct, "order": o.order}
        for o in AnswerOption.objects.filter(question_id=question_id).order_by("order", "id")
    ]


def content_of(question: Question, options: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The versioned content of a question as the fields of a :class:`QuestionVersion`."""
    return {
        "stem": question.stem,
        "explanation": question.explanation,
        "type": question.type,
        "options": list(options),
        "correct_option_ids": sorted(o["id"] for o in options if o["is_correct"]),
    }


def _same_content(version: QuestionVersion, content: dict[str, Any]) -> bool:
    """Whether a snapshot already says what ``content`` says. Options compare by id, text,
    key and display position, not by their ``order`` numbers, so renumbering 0,1,2 as 1,2,3
    (same letters A, B, C) is not a new version."""

    def shape(options: Sequence[dict[str, Any]]) -> list[tuple[Any, Any, bool]]:
        return [(o["id"], o["text"], bool(o["is_correct"])) for o in options]

    return (
        version.stem == content["stem"]
        and version.explanation == content["explanation"]
        and version.type == content["type"]
        and shape(version.options) == shape(content["options"])
    )


def snapshot_question(
    *, question: Question | int, by: User | None = None, reason: str = ""
) -> QuestionVersion:
    """Records the question's current content (read from the database, not from the instance
    passed) as a version, when it differs from the latest one; returns the current version.

    Locks the question row, so two editors' snapshots take turns. With no snapshot yet, the
    content is stored under the question's current ``version`` number; after a change, under
    the next number (or the question's ``version`` if an edit path already moved it further),
    and ``Question.version`` (also on the instance passed) is set to that number."""
    question_id = question if isinstance(question, int) else question.pk
    with transaction.atomic():
        q = Question.objects.select_for_update(of=("self",)).get(pk=question_id)
        content = content_of(q, _options_of(question_id))
        latest = q.versions.order_by("-number").first()
        if latest is not None and _same_content(latest, content):
            if q.version <= latest.number:
                if q.version < latest.number:
                    Question.objects.filter(pk=question_id).update(version=latest.number)
                number = latest.number
                _sync(question, number)
                return latest
            # An edit path moved the number without a content change: give that number a
            # snapshot too, so every number an attempt may carry has one.
            number = q.version
        elif latest is None:
            number = q.version
        else:
            number = max(q.version, latest.number + 1)
        version = QuestionVersion.objects.create(
            question_id=question_id,
            number=number,
            reason=reason[:2000],
            created_by=by if getattr(by, "pk", None) else None,
            **content,
        )
        if q.version != number:
            Question.objects.filter(pk=question_id).update(version=number)
        _sync(question, number)
        return version


def _sync(question: Question | int, number: int) -> None:
    if isinstance(question, Question):
        question.version = number


def snapshot_new_questions(
    *, question_ids: Iterable[int], by: User | None = None, reason: str = ""
) -> int:
    """First snapshots for questions just created in bulk (the import), in a fixed number of
    queries; questions that already have a snapshot are skipped. Returns how many were made."""
    ids = sorted(set(question_ids))
    if not ids:
        return 0
    options: dict[int, list[dict[str, Any]]] = {}
    for o in AnswerOption.objects.filter(question_id__in=ids).order_by(
        "question_id", "order", "id"
    ):
        options.setdefault(o.question_id, []).append(
            {"id": o.pk, "text": o.text, "is_correct": o.is_correct, "order": o.order}
        )
    has_one = set(
        QuestionVersion.objects.filter(question_id__in=ids).values_list("question_id", flat=True)
    )
    creator = by if getattr(by, "pk", None) else None
    rows = [
        QuestionVersion(
            question_id=q.pk,
            number=q.version,
            reason=reason[:2000],
            created_by=creator,
            **content_of(q, options.get(q.pk, [])),
        )
        for q in Question.objects.filter(id__in=ids).exclude(id__in=has_one).order_by("id")
    ]
    QuestionVersion.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@transaction.atomic
def rekey_question(
    *, question_id: int, correct_option_ids: list[int], reason: str, by: User | None
) -> QuestionVersion:
    """Changes which options are correct and nothing else, as a new version.

    Locks the question row, so a concurrent edit or re-key waits. Raises :class:`NotFound`
    for an unknown question, :class:`ValidationFailed` when an id is not one of its options or
    the key breaks the option-set rule of its type, and :class:`Conflict` when the key asked for
    is already the key (nothing to do). Audited as ``question.rekey``."""
    q = Question.objects.select_for_update(of=("self",)).filter(pk=question_id).first()
    if q is None:
        raise NotFound("No such question.")
    snapshot_question(question=q, by=by, reason="Before re-key.")  # baseline if none yet
    options = list(AnswerOption.objects.filter(question_id=question_id).order_by("order", "id"))
    wanted = {int(i) for i in correct_option_ids}
    foreign = sorted(wanted - {o.pk for o in options})
    if foreign:
        raise ValidationFailed(
            "Some option ids do not belong to this question.",
            fields={"correct_option_ids": [f"Unknown option id(s): {foreign}."]},
        )
    errors = validate_option_set(
        type=q.type,
        options=[{"text": o.text, "is_correct": o.pk in wanted} for o in options],
    )
    if errors:
        raise ValidationFailed(errors[0], fields={"correct_option_ids": errors})
    old_key = sorted(o.pk for o in options if o.is_correct)
    if sorted(wanted) == old_key:
        raise Conflict("That is already the question's key.")
    for option in options:
        option.is_correct = option.pk in wanted
    AnswerOption.objects.bulk_update(options, ["is_correct"])
    old_version = q.version
    actor = by if getattr(by, "pk", None) else None
    Question.objects.filter(pk=question_id).update(updated_by=actor, updated_at=timezone.now())
    version = snapshot_question(question=q, by=by, reason=reason)
    record_event(
        kind="content",
        action="question.rekey",
        actor=by,
        target=q,
        before={"version": old_version, "correct_option_ids": old_key},
        after={"version": version.number, "correct_option_ids": sorted(wanted), "reason": reason},
    )
    return version
