"""The question bank's writes: questions with their options (and the integrity rules), answer
statistics, and bulk import. See the modules for the rules they enforce."""

from apps.questions.services.imports import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    TooManyRows,
    create_import_job,
    ensure_import_size,
    run_import_job,
)
from apps.questions.services.questions import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    create_question,
    delete_question,
    options_signature,
    publish_question,
    question_snapshot,
    record_question_stats,
    retire_question,
    set_status_bulk,
    update_question,
    validate_option_set,
)

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_OPTIONS",
    "MIN_OPTIONS",
    "TooManyRows",
    "create_import_job",
    "create_question",
    "delete_question",
    "ensure_import_size",
    "options_signature",
    "publish_question",
    "question_snapshot",
    "record_question_stats",
    "retire_question",
    "run_import_job",
    "set_status_bulk",
    "update_question",
    "validate_option_set",
]
