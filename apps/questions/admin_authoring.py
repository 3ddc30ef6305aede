"""Helps for writing questions in the admin, kept out of admin.py: the preview of an unsaved
question (with its key and explanation), the list of HTML that survives sanitising, and the
import template files linked from the upload page.

The preview reads the change form's own POST (the "Preview" button posts the form to another
URL in a new tab), so what it shows is exactly what Save would store, sanitised by the same
:func:`~apps.core.richtext.sanitize_html`, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from apps.core.richtext import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, ALLOWED_URL_SCHEMES, sanitize_html
from apps.questions import services
from apps.questions.models import QuestionType
from apps.questions.services.imports import OPTION_LETTERS

OPTION_ROWS_ON_ADD = 5  # a single-best-answer question has five options (docs/mrcs-exam.md)
MAX_PREVIEW_OPTIONS = 20
OPTIONS_PREFIX = "options"  # the inline formset's prefix: AnswerOption.question's related_name


@dataclass
class PreviewOption:
    letter: str
    html: str
    is_correct: bool


@dataclass
class QuestionPreview:
    stem_html: str
    explanation_html: str
    type_label: str
    options: list[PreviewOption] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def key_letters(self) -> str:
        return ", ".join(o.letter for o in self.options if o.is_correct) or "none"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _letter(index: int) -> str:
    return OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)


def preview_from_post(data: QueryDict) -> QuestionPreview:
    """The question as the change form's POST would save it: sanitised stem and explanation,
    the options that are neither blank nor marked for deletion in their order, lettered, with
    the key marked, and what the option-set rule would refuse."""
    total = min(_int(data.get(f"{OPTIONS_PREFIX}-TOTAL_FORMS"), 0), MAX_PREVIEW_OPTIONS)
    rows: list[tuple[int, int, str, bool]] = []
    for index in range(max(total, 0)):
        prefix = f"{OPTIONS_PREFIX}-{index}-"
        text = sanitize_html(data.get(prefix + "text", ""))
        if not text or data.get(prefix + "DELETE"):
            continue
        order = _int(data.get(prefix + "order"), index)
        rows.append((order, index, text, bool(data.get(prefix + "is_correct"))))
    rows.sort()
    question_type = data.get("type") or QuestionType.SINGLE
    options = [
        PreviewOption(letter=_letter(i), html=text, is_correct=correct)
        for i, (_, _, text, correct) in enumerate(rows)
    ]
    problems = list(
        services.validate_option_set(
            type=question_type,
            options=[{"text": o.html, "is_correct": o.is_correct} for o in options],
        )
    )
    stem = sanitize_html(data.get("stem", ""))
    if not stem:
        problems.insert(0, "The stem is blank.")
    labels = dict(QuestionType.choices)
    return QuestionPreview(
        stem_html=stem,
        explanation_html=sanitize_html(data.get("explanation", "")),
        type_label=str(labels.get(question_type, question_type)),
        options=options,
        problems=problems,
    )


def allowed_html() -> dict[str, Any]:
    """What rich text may contain, from the sanitiser's own allow-list, for the change page."""
    return {
        "tags": sorted(ALLOWED_TAGS),
        "attributes": [
            f"{tag}: {', '.join(sorted(attrs))}"
            for tag, attrs in sorted(ALLOWED_ATTRIBUTES.items())
        ],
        "url_schemes": sorted(ALLOWED_URL_SCHEMES),
    }


# --- import template ---------------------------------------------------------------------------
# The columns of docs/import-format.md, with one example row per question type.
TEMPLATE_COLUMNS = (
    "category", "subcategory", "type", "difficulty", "stem",
    "option_a", "option_b", "option_c", "option_d", "option_e",
    "correct", "explanation", "reference", "tags", "status",
)  # fmt: skip
TEMPLATE_ROWS = (
    (
        "anatomy", "", "single", "3",
        "Which nerve is most at risk in a fracture of the surgical neck of the humerus?",
        "Axillary nerve", "Radial nerve", "Ulnar nerve", "Median nerve",
        "Musculocutaneous nerve", "A",
        "<p>The axillary nerve winds round the surgical neck with the posterior circumflex "
        "humeral artery.</p>",
        "Last's Anatomy, 13th ed.", "upper-limb;nerve-injury", "draft",
    ),
    (
        "microbiology", "", "multi", "3",
        "Which of these organisms form spores? Select all that apply.",
        "Clostridium perfringens", "Staphylococcus aureus", "Bacillus anthracis",
        "Escherichia coli", "Clostridioides difficile", "A;C;E",
        "<p>Clostridium and Bacillus species form spores.</p>", "", "spores", "draft",
    ),
)  # fmt: skip


def import_template_csv() -> bytes:
    """The template as UTF-8 CSV (with a byte-order mark, so Excel reads it as UTF-8)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return buffer.getvalue().encode("utf-8-sig")


def import_template_xlsx() -> bytes:
    """The template as an Excel workbook: one sheet, the header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # nosec B101 # a new workbook has one sheet
    sheet.title = "questions"
    sheet.append(list(TEMPLATE_COLUMNS))
    for row in TEMPLATE_ROWS:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
