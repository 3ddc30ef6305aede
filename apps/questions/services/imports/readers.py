"""Reading an uploaded question file (CSV, JSON or XLSX; docs/import-format.md) into data rows,
with the upload limits. A file that cannot be read raises :class:`ValidationFailed` (400), one of
another type :class:`UnsupportedMediaType` (415); what the rows hold is checked by
:mod:`apps.questions.services.imports.validation`."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.exceptions import UnsupportedMediaType, ValidationFailed
from apps.questions.models import ImportFormat

MAX_IMPORT_BYTES: int = getattr(settings, "QUESTION_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
MAX_IMPORT_ROWS: int = getattr(settings, "QUESTION_IMPORT_MAX_ROWS", 5000)


@dataclass
class SourceRow:
    row: int  # spreadsheet row (header = 1) or 1-based position in a JSON array
    data: dict[str, Any]


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
