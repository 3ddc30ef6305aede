"""The integrity rules every write path of the question bank enforces (services, Django Admin,
import, seed): an option set's shape and key, a question's own fields, and one question per
normalised stem. See :mod:`apps.questions.services.questions` for where they are applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.core.exceptions import ValidationFailed
from apps.core.richtext import sanitize_html
from apps.questions.models import Question, QuestionType
from apps.questions.normalisation import stem_fingerprint
from apps.taxonomy.models import Category, Subcategory

MIN_OPTIONS = 2
MAX_OPTIONS = 10

OptionSpec = Mapping[str, Any]  # {"text": str, "is_correct": bool, "id"?: int}


def validate_option_set(*, type: str, options: Sequence[OptionSpec]) -> list[str]:
    """The problems with an option set for a question of ``type`` (empty when valid)."""
    errors: list[str] = []
    if type not in QuestionType.values:
        return [f"Unknown question type {type!r}."]
    texts = [sanitize_html(str(option.get("text") or "")) for option in options]
    if len(options) < MIN_OPTIONS:
        errors.append(f"A question needs at least {MIN_OPTIONS} options.")
    if len(options) > MAX_OPTIONS:
        errors.append(f"A question can have at most {MAX_OPTIONS} options.")
    if any(not text for text in texts):
        errors.append("Every option needs a text.")
    seen = [" ".join(text.lower().split()) for text in texts if text]
    if len(set(seen)) != len(seen):
        errors.append("Two options have the same text.")
    n_correct = sum(1 for option in options if bool(option.get("is_correct")))
    if type == QuestionType.SINGLE and n_correct != 1:
        errors.append(
            f"A single-best-answer question needs exactly one correct option ({n_correct} given)."
        )
    if type == QuestionType.MULTI and n_correct < 1:
        errors.append("A multiple-response question needs at least one correct option.")
    return errors


def validate_fields(
    *, stem: str, difficulty: int, category: Category, subcategory: Subcategory | None
) -> dict[str, list[str]]:
    """The problems with a question's own fields, by field name (empty when valid)."""
    errors: dict[str, list[str]] = {}
    if not sanitize_html(stem):
        errors["stem"] = ["The stem must not be blank."]
    if not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        errors["difficulty"] = ["Difficulty is a whole number from 1 to 5."]
    if subcategory is not None and subcategory.category_id != category.pk:
        errors["subcategory"] = ["This subcategory belongs to another category."]
    return errors


def check_unique_stem(*, stem: str, exclude_id: int | None = None) -> None:
    """Refuses a stem whose normalised form is already in the bank (other than ``exclude_id``)."""
    qs = Question.objects.filter(stem_normalised=stem_fingerprint(sanitize_html(stem)))
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    duplicate = qs.values_list("id", flat=True).first()
    if duplicate is not None:
        raise ValidationFailed(
            "A question with the same stem already exists.",
            fields={"stem": [f"Duplicate of question #{duplicate}."]},
        )
