"""Bulk import of questions from CSV, JSON or XLSX (format: docs/import-format.md), by
responsibility: :mod:`.readers` turns the file into rows, :mod:`.validation` checks each row,
:mod:`.jobs` stores the upload as a job and processes it. The public names are re-exported
here for the callers (and tests) that import them from ``apps.questions.services.imports``."""

from apps.questions.services.imports.jobs import (
    STALE_RUNNING_AFTER,
    RowResult,
    TooManyRows,
    create_import_job,
    ensure_import_size,
    process_rows,
    run_import_job,
)
from apps.questions.services.imports.readers import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    SourceRow,
    detect_format,
    read_rows,
)
from apps.questions.services.imports.validation import OPTION_LETTERS

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "OPTION_LETTERS",
    "STALE_RUNNING_AFTER",
    "RowResult",
    "SourceRow",
    "TooManyRows",
    "create_import_job",
    "detect_format",
    "ensure_import_size",
    "process_rows",
    "read_rows",
    "run_import_job",
]
