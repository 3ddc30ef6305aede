"""Bulk import of questions from CSV, JSON or XLSX (format: docs/import-format.md).

The upload is checked while the client waits (size, type, readable, row limit) and stored on
an :class:`ImportJob`; a Celery task then validates every row and imports the valid ones in
one transaction. Invalid rows and duplicates (a normalised stem already in the bank, or earlier
in the same file) are reported per row and skipped, so importing the same file twice creates
nothing the second time. A dry run validates and reports without writing a question.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.services import record_event
from apps.cms.richtext import sanitize_html
from apps.core.exceptions import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from apps.questions.models import (
    AnswerOption,
    ImportFormat,
    ImportJob,
    ImportStatus,
    Question,
    QuestionStatus,
    QuestionType,
)
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services.questions import category_counts_changed, validate_option_set
from apps.taxonomy.models import Category, Subcategory
from apps.taxonomy.services import tags_for_names

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES: int = getattr(settings, "QUESTION_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
MAX_IMPORT_ROWS: int = getattr(settings, "QUESTION_IMPORT_MAX_ROWS", 5000)
# A job left "running" longer than this (a worker died mid-way; its transaction rolled back)
# may be picked up again by a redelivered task.
STALE_RUNNING_AFTER = timedelta(minutes=15)

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
_IMPORTABLE_STATUSES = (QuestionStatus.DRAFT, QuestionStatus.PUBLISHED)


class TooManyRows(ValidationFailed):
    code = "too_many_rows"


@dataclass
class SourceRow:
    row: int  # spreadsheet row (header = 1) or 1-based position in a JSON array
    data: dict[str, Any]


@dataclass
class RowResult:
    row: int
    status: str  # created | valid | duplicate | invalid
    errors: list[str] = field(default_factory=list)
    question_id: int | None = None
    duplicate_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "status": self.status, "errors": self.errors}
        if self.question_id is not None:
            out["question_id"] = self.question_id
        if self.duplicate_of is not None:
            out["duplicate_of"] = self.duplicate_of
        return out


# --- reading files ----------------------------------------------------------------------------
def detect_format(*, filename: str, content: bytes) -> str:
    """The import format from the file name, confirmed by the first bytes where possible.
    Anything else raises :class:`UnsupportedMediaType` (415)."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        fmt = ImportFormat.CSV
    elif name.endswith(".json"):
        fmt = ImportFormat.JSON
    elif name.endswith(".xlsx"):
        fmt = ImportFormat.XLSX
    else:
        raise UnsupportedMediaType("Upload a .csv, .json or .xlsx file.")
    if fmt == ImportFormat.XLSX and not content.startswith(b"PK\x03\x04"):
        raise UnsupportedMediaType("This .xlsx file is not an Excel workbook.")
    if fmt != ImportFormat.XLSX and content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UnsupportedMediaType("This file is a binary document, not text.")
    return fmt


def _clean_key(key: Any) -> str:
    return str(key or "").strip().lower().replace(" ", "_")


def _read_csv(content: bytes) -> list[SourceRow]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "The CSV file is not UTF-8 text.", fields={"file": ["Save the file as UTF-8 CSV."]}
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed("The CSV file cannot be read.", fields={"file": [str(exc)]}) from exc
    if not rows:
        return []
    header = [_clean_key(h) for h in rows[0]]
    out: list[SourceRow] = []
    for index, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        out.append(SourceRow(row=index, data=dict(zip(header, values, strict=False))))
    _require_columns(header)
    return out


def _read_xlsx(content: bytes) -> list[SourceRow]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(
            "The Excel file cannot be read.", fields={"file": ["Not a valid .xlsx workbook."]}
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            return []
        header = [_clean_key(h) for h in header_row]
        _require_columns(header)
        out: list[SourceRow] = []
        for index, values in enumerate(rows, start=2):
            cells = ["" if v is None else v for v in values]
            if not any(str(c).strip() for c in cells):
                continue
            out.append(SourceRow(row=index, data=dict(zip(header, cells, strict=False))))
            if len(out) > MAX_IMPORT_ROWS:
                break
        return out
    finally:
        workbook.close()


def _read_json(content: bytes) -> list[SourceRow]:
    try:
        payload = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            "The JSON file cannot be parsed.", fields={"file": [str(exc)[:200]]}
        ) from exc
    if isinstance(payload, dict) and isinstance(payload.get("questions"), list):
        payload = payload["questions"]
    if not isinstance(payload, list):
        raise ValidationFailed(
            "The JSON file must hold a list of questions.",
            fields={"file": ['Expected [ {...}, ... ] or {"questions": [ ... ]}.']},
        )
    return [
        SourceRow(
            row=index,
            data={_clean_key(k): v for k, v in item.items()}
            if isinstance(item, dict)
            else {"__not_an_object__": True},
        )
        for index, item in enumerate(payload, start=1)
    ]


def _require_columns(header: Sequence[str]) -> None:
    missing = [column for column in ("category", "stem") if column not in header]
    if missing:
        raise ValidationFailed(
            "The file is missing required columns.",
            fields={"file": [f"Missing column(s): {', '.join(missing)}."]},
        )


_READERS: dict[str, Callable[[bytes], list[SourceRow]]] = {
    ImportFormat.CSV: _read_csv,
    ImportFormat.JSON: _read_json,
    ImportFormat.XLSX: _read_xlsx,
}


def read_rows(*, fmt: str, content: bytes) -> list[SourceRow]:
    """The file's data rows. Unreadable files raise :class:`ValidationFailed`."""
    return _READERS[fmt](content)


# --- validating rows -------------------------------------------------------------------------
@dataclass
class _Lookups:
    categories: dict[str, Category]
    subcategories: dict[tuple[int, str], Subcategory]

    @classmethod
    def load(cls) -> _Lookups:
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
class _Candidate:
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


def _validate_row(
    source: SourceRow, lookups: _Lookups, default_status: str
) -> tuple[_Candidate | None, list[str]]:
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
    if status not in _IMPORTABLE_STATUSES:
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
        _Candidate(
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


def _write(candidates: Sequence[_Candidate], actor: Any) -> list[int]:
    """Bulk-inserts the questions, their options and tags; returns the new ids in order."""
    creator = actor if getattr(actor, "pk", None) else None
    questions = [
        Question(stem_normalised=c.fingerprint, created_by=creator, updated_by=creator, **c.fields)
        for c in candidates
    ]
    Question.objects.bulk_create(questions, batch_size=500)
    AnswerOption.objects.bulk_create(
        [
            AnswerOption(
                question=q,
                text=sanitize_html(o["text"]),
                is_correct=bool(o["is_correct"]),
                order=order,
            )
            for q, c in zip(questions, candidates, strict=True)
            for order, o in enumerate(c.options)
        ],
        batch_size=2000,
    )
    all_tags = {slugify(t): t for c in candidates for t in c.tags}
    if all_tags:
        tag_by_slug = {tag.slug: tag for tag in tags_for_names(names=all_tags.values())}
        through = Question.tags.through
        links = {
            (q.pk, tag_by_slug[slugify(name)].pk)
            for q, c in zip(questions, candidates, strict=True)
            for name in c.tags
            if slugify(name) in tag_by_slug
        }
        through.objects.bulk_create(
            [through(question_id=qid, tag_id=tid) for qid, tid in sorted(links)],
            batch_size=2000,
        )
    return [q.pk for q in questions]


def _serialise_imports() -> None:
    """Two imports running at once could both miss each other's stems; on PostgreSQL a
    transaction-scoped advisory lock makes them take turns."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x5155455354])  # "QUEST"


def process_rows(
    *, rows: Sequence[SourceRow], dry_run: bool, actor: Any, default_status: str
) -> list[RowResult]:
    """Validates every row, skips duplicates and (unless ``dry_run``) imports the rest.
    Must run inside a transaction."""
    lookups = _Lookups.load()
    results: list[RowResult] = []
    candidates: list[tuple[_Candidate, RowResult]] = []
    validated = [(source, *_validate_row(source, lookups, default_status)) for source in rows]
    fingerprints = {c.fingerprint for _, c, _ in validated if c is not None}
    in_bank = dict(
        Question.objects.filter(stem_normalised__in=fingerprints).values_list(
            "stem_normalised", "id"
        )
    )
    first_row_for: dict[str, int] = {}
    for source, candidate, errors in validated:
        if candidate is None:
            results.append(RowResult(row=source.row, status="invalid", errors=errors))
            continue
        if candidate.fingerprint in in_bank:
            results.append(
                RowResult(
                    row=source.row,
                    status="duplicate",
                    errors=[
                        f"stem: already in the bank as question #{in_bank[candidate.fingerprint]}."
                    ],
                    duplicate_of=f"question {in_bank[candidate.fingerprint]}",
                )
            )
            continue
        if candidate.fingerprint in first_row_for:
            earlier = first_row_for[candidate.fingerprint]
            results.append(
                RowResult(
                    row=source.row,
                    status="duplicate",
                    errors=[f"stem: same question as row {earlier} of this file."],
                    duplicate_of=f"row {earlier}",
                )
            )
            continue
        first_row_for[candidate.fingerprint] = source.row
        result = RowResult(row=source.row, status="valid" if dry_run else "created")
        results.append(result)
        candidates.append((candidate, result))
    if candidates and not dry_run:
        ids = _write([c for c, _ in candidates], actor)
        category_counts_changed()
        for (_, result), question_id in zip(candidates, ids, strict=True):
            result.question_id = question_id
    return results


# --- jobs ------------------------------------------------------------------------------------
def ensure_import_size(*, size: int) -> None:
    """Refuses (413) an upload over the size limit; callers check before reading the file."""
    if size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
            fields={"file": [f"At most {MAX_IMPORT_BYTES} bytes."]},
        )


def create_import_job(
    *,
    actor: Any,
    filename: str,
    content: bytes,
    dry_run: bool = False,
    default_status: str = QuestionStatus.DRAFT,
) -> ImportJob:
    """Checks the upload and stores it as a pending job, then queues its processing (after the
    surrounding transaction commits). Raises 413 when the file is over the size limit, 400
    (``too_many_rows``) over the row limit, 415 for an unsupported type and 400 for an
    unreadable file or missing columns."""
    ensure_import_size(size=len(content))
    if not content.strip():
        raise ValidationFailed("The file is empty.", fields={"file": ["The file is empty."]})
    fmt = detect_format(filename=filename, content=content)
    if default_status not in _IMPORTABLE_STATUSES:
        raise ValidationFailed(
            "Imported questions can be drafts or published.",
            fields={"status": ["Choose 'draft' or 'published'."]},
        )
    rows = read_rows(fmt=fmt, content=content)
    if not rows:
        raise ValidationFailed("The file has no data rows.", fields={"file": ["No data rows."]})
    if len(rows) > MAX_IMPORT_ROWS:
        raise TooManyRows(
            f"The file has more than {MAX_IMPORT_ROWS} rows.",
            fields={"file": [f"At most {MAX_IMPORT_ROWS} rows per file; split it."]},
        )
    job = ImportJob.objects.create(
        created_by=actor if getattr(actor, "pk", None) else None,
        filename=filename[:255],
        format=fmt,
        dry_run=dry_run,
        default_status=default_status,
        content=content,
        size_bytes=len(content),
        total_rows=len(rows),
    )
    from apps.core.queue import enqueue_after_commit
    from apps.questions.tasks import process_import_job

    enqueue_after_commit(process_import_job, job.pk)
    return job


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        stale = (
            job.status == ImportStatus.RUNNING
            and job.started_at is not None
            and job.started_at < timezone.now() - STALE_RUNNING_AFTER
        )
        if job.status != ImportStatus.PENDING and not stale:
            return None
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
        return job


def run_import_job(*, job_id: int) -> ImportJob:
    """Processes a pending job once (a job already finished or being worked on is returned
    as it is, so a redelivered task does nothing). All questions of a job are written in one
    transaction: a failure leaves none of them behind."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    try:
        with transaction.atomic():
            _serialise_imports()
            rows = read_rows(fmt=job.format, content=bytes(job.content))
            results = process_rows(
                rows=rows,
                dry_run=job.dry_run,
                actor=job.created_by,
                default_status=job.default_status,
            )
            job.report = [r.as_dict() for r in results]
            job.total_rows = len(results)
            job.created_count = sum(r.status == "created" for r in results)
            job.duplicate_count = sum(r.status == "duplicate" for r in results)
            job.invalid_count = sum(r.status == "invalid" for r in results)
            job.status = ImportStatus.SUCCEEDED
            job.finished_at = timezone.now()
            job.save()
            if not job.dry_run:
                record_event(
                    kind="content",
                    action="question.import",
                    actor=job.created_by,
                    target=job,
                    after={
                        "filename": job.filename,
                        "created": job.created_count,
                        "duplicates": job.duplicate_count,
                        "invalid": job.invalid_count,
                        "question_ids": [r.question_id for r in results if r.question_id],
                    },
                )
    except Exception as exc:
        logger.exception("question import %s failed", job_id)
        message = exc.message if isinstance(exc, ValidationFailed) else "The import failed."
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, error=message, finished_at=timezone.now()
        )
    return ImportJob.objects.get(pk=job_id)
