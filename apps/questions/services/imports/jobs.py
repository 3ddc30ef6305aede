"""Import jobs: the upload is checked while the client waits (size, type, readable, row limit)
and stored on an :class:`ImportJob`; a Celery task then validates every row and imports the
valid ones in one transaction. Invalid rows and duplicates (a normalised stem already in the
bank, or earlier in the same file) are reported per row and skipped, so importing the same file
twice creates nothing the second time. A dry run validates and reports without writing a
question."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core import sql
from apps.core.exceptions import PayloadTooLarge, ValidationFailed
from apps.core.richtext import sanitize_html
from apps.questions import statements
from apps.questions.models import AnswerOption, ImportJob, ImportStatus, Question, QuestionStatus
from apps.questions.services.imports.readers import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    SourceRow,
    detect_format,
    read_rows,
)
from apps.questions.services.imports.validation import (
    IMPORTABLE_STATUSES,
    Candidate,
    Lookups,
    validate_row,
)
from apps.questions.services.questions import category_counts_changed
from apps.questions.services.versions import snapshot_new_questions
from apps.taxonomy.services import tags_for_names

logger = logging.getLogger(__name__)

# A job left "running" longer than this (a worker died mid-way; its transaction rolled back)
# may be picked up again by a redelivered task.
STALE_RUNNING_AFTER = timedelta(minutes=15)


class TooManyRows(ValidationFailed):
    code = "too_many_rows"


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


def _write(candidates: Sequence[Candidate], actor: User | None) -> list[int]:
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
    """Two imports running at once could both miss each other's stems; a transaction-scoped
    advisory lock makes them take turns."""
    sql.execute(statements.SERIALISE_IMPORTS, {})


# Told how many more rows have been validated (``manage.py import_questions``' progress bar).
Progress = Callable[[int], object]


def process_rows(
    *,
    rows: Sequence[SourceRow],
    dry_run: bool,
    actor: User | None,
    default_status: str,
    progress: Progress | None = None,
) -> list[RowResult]:
    """Validates every row, skips duplicates and (unless ``dry_run``) imports the rest.
    Must run inside a transaction."""
    lookups = Lookups.load()
    results: list[RowResult] = []
    candidates: list[tuple[Candidate, RowResult]] = []
    validated = []
    for source in rows:
        validated.append((source, *validate_row(source, lookups, default_status)))
        if progress is not None:
            progress(1)
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
        snapshot_new_questions(question_ids=ids, by=actor, reason="Imported.")
        category_counts_changed()
        for (_, result), question_id in zip(candidates, ids, strict=True):
            result.question_id = question_id
    return results


def ensure_import_size(*, size: int) -> None:
    """Refuses (413) an upload over the size limit; callers check before reading the file."""
    if size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
            fields={"file": [f"At most {MAX_IMPORT_BYTES} bytes."]},
        )


def create_import_job(
    *,
    actor: User | None,
    filename: str,
    content: bytes,
    dry_run: bool = False,
    default_status: str = QuestionStatus.DRAFT,
    enqueue: bool = True,
) -> ImportJob:
    """Checks the upload and stores it as a pending job, then queues its processing (after the
    surrounding transaction commits) unless ``enqueue`` is false (the caller then runs it with
    :func:`run_import_job`, as ``manage.py import_questions`` does). Raises 413 when the file
    is over the size limit, 400 (``too_many_rows``) over the row limit, 415 for an unsupported
    type and 400 for an unreadable file or missing columns."""
    ensure_import_size(size=len(content))
    if not content.strip():
        raise ValidationFailed("The file is empty.", fields={"file": ["The file is empty."]})
    fmt = detect_format(filename=filename, content=content)
    if default_status not in IMPORTABLE_STATUSES:
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
    if enqueue:
        from apps.core.queue import enqueue_after_commit

        enqueue_after_commit("questions.process_import_job", job.pk)  # the task calls us
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


def run_import_job(*, job_id: int, progress: Progress | None = None) -> ImportJob:
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
                progress=progress,
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
