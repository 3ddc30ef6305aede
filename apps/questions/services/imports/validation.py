"""Checking the rows of an import file: each row becomes a question to create (its fields
resolved: category and subcategory by slug or name, type aliases, the option columns and the
key) or a list of errors, by the same rules as every other write path
(:mod:`apps.questions.services.rules`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.core.richtext import sanitize_html
from apps.questions.models import QuestionStatus, QuestionType
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services.imports.readers import SourceRow
from apps.questions.services.rules import validate_option_set
from apps.taxonomy.models import Category, Subcategory

OPTION_LETTERS = "ABCDEFGHIJ"
_TYPE_ALIASES = {
    "single": QuestionType.SINGLE,
    "sba": QuestionType.SINGLE,
    "single best answer": QuestionType.SINGLE,
    "multi": QuestionType.MULTI,
    "multiple": QuestionType.MULTI,
    "mrq": QuestionType.MULTI,
    "multiple response": QuestionType.MULTI,
}
IMPORTABLE_STATUSES = (QuestionStatus.DRAFT, QuestionStatus.PUBLISHED)


@dataclass
class Lookups:
    """The categories and subcategories a row may name, by lower-cased slug or name (the slug
    wins), read once per job."""

    categories: dict[str, Category]
    subcategories: dict[tuple[int, str], Subcategory]

    @classmethod
    def load(cls) -> Lookups:
        categories: dict[str, Category] = {}
        for category in Category.objects.all():
            categories[category.slug.lower()] = category
            categories.setdefault(category.name.strip().lower(), category)
        subcategories: dict[tuple[int, str], Subcategory] = {}
        for sub in Subcategory.objects.all():
            subcategories[(sub.category_id, sub.slug.lower())] = sub
            subcategories.setdefault((sub.category_id, sub.name.strip().lower()), sub)
        return cls(categories=categories, subcategories=subcategories)


@dataclass
class Candidate:
    """A valid row: the question's fields, options and tag names, and its stem's fingerprint
    (for duplicates)."""

    row: int
    fingerprint: str
    fields: dict[str, Any]
    options: list[dict[str, Any]]
    tags: list[str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _split_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    text = _text(value)
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def _options_from_row(data: dict[str, Any], errors: list[str]) -> list[dict[str, Any]]:
    raw = data.get("options")
    if isinstance(raw, list):
        options: list[dict[str, Any]] = []
        correct_marks = {m.upper() for m in _split_list(data.get("correct", ""))}
        for index, item in enumerate(raw):
            if isinstance(item, dict):
                is_correct = item.get("is_correct", False)
                if not isinstance(is_correct, bool):
                    errors.append(f"options.{index}.is_correct must be true or false.")
                options.append({"text": _text(item.get("text")), "is_correct": is_correct is True})
            else:
                letter = OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)
                options.append(
                    {
                        "text": _text(item),
                        "is_correct": letter in correct_marks or str(index + 1) in correct_marks,
                    }
                )
        return options
    columns: list[tuple[str, str]] = []  # (mark, value)
    for index, letter in enumerate(OPTION_LETTERS):
        value = data.get(f"option_{letter.lower()}", data.get(f"option_{index + 1}"))
        if _text(value):
            columns.append((letter, _text(value)))
    correct_marks = {m.upper() for m in _split_list(data.get("correct", ""))}
    if not correct_marks and columns:
        errors.append("correct: say which option(s) are correct, e.g. 'B' or 'A;C'.")
    valid_marks = {letter for letter, _ in columns} | {
        str(OPTION_LETTERS.index(letter) + 1) for letter, _ in columns
    }
    unknown = sorted(correct_marks - valid_marks)
    if unknown:
        errors.append(f"correct: {', '.join(unknown)} is not one of the options given.")
    return [
        {
            "text": value,
            "is_correct": letter in correct_marks
            or str(OPTION_LETTERS.index(letter) + 1) in correct_marks,
        }
        for letter, value in columns
    ]


def validate_row(
    source: SourceRow, lookups: Lookups, default_status: str
) -> tuple[Candidate | None, list[str]]:
    """The row as a question to create, or ``None`` and every problem found in it."""
    data = source.data
    if data.get("__not_an_object__"):
        return None, ["Each entry must be a JSON object."]
    errors: list[str] = []

    stem = sanitize_html(_text(data.get("stem")))
    if not stem:
        errors.append("stem: required.")

    category_key = _text(data.get("category")).lower()
    category = lookups.categories.get(category_key)
    if not category_key:
        errors.append("category: required.")
    elif category is None:
        errors.append(f"category: unknown category {category_key!r}.")

    subcategory = None
    sub_key = _text(data.get("subcategory")).lower()
    if sub_key and category is not None:
        subcategory = lookups.subcategories.get((category.pk, sub_key))
        if subcategory is None:
            errors.append(f"subcategory: {sub_key!r} is not a subcategory of {category.slug!r}.")

    type_key = _text(data.get("type")).lower() or QuestionType.SINGLE
    qtype = _TYPE_ALIASES.get(type_key)
    if qtype is None:
        errors.append(f"type: {type_key!r} is not 'single' or 'multi'.")

    difficulty_raw = _text(data.get("difficulty")) or "3"
    try:
        number = float(difficulty_raw)
        difficulty = int(number) if number.is_integer() else 0
    except (ValueError, OverflowError):
        difficulty = 0
    if not 1 <= difficulty <= 5:
        errors.append(f"difficulty: {difficulty_raw!r} is not a whole number from 1 to 5.")

    status = _text(data.get("status")).lower() or default_status
    if status not in IMPORTABLE_STATUSES:
        errors.append(f"status: {status!r} is not 'draft' or 'published'.")

    options = _options_from_row(data, errors)
    if qtype is not None:
        errors.extend(f"options: {e}" for e in validate_option_set(type=qtype, options=options))

    reference = _text(data.get("reference"))
    if len(reference) > 500:
        errors.append("reference: at most 500 characters.")

    if errors:
        return None, errors
    assert category is not None  # nosec B101 # errors returned above
    assert qtype is not None  # nosec B101 # errors returned above
    return (
        Candidate(
            row=source.row,
            fingerprint=stem_fingerprint(stem),
            fields={
                "stem": stem,
                "type": qtype,
                "category": category,
                "subcategory": subcategory,
                "difficulty": difficulty,
                "explanation": sanitize_html(_text(data.get("explanation"))),
                "reference": reference,
                "status": status,
            },
            options=options,
            tags=_split_list(data.get("tags", "")),
        ),
        [],
    )
