"""``manage.py import_questions FILE [--dry-run] [--status draft|published] [--as EMAIL]
[--no-progress]``: the API's question import (docs/import-format.md), run from a shell with a
progress bar (on a terminal).

It is the same job: :func:`~apps.questions.services.imports.create_import_job` checks the file
(size, type, columns, row limit) and stores it, :func:`~apps.questions.services.imports.
run_import_job` validates every row, skips duplicates and writes the rest in one transaction,
with the audit event, and the job stays in the admin's list of import jobs. The only
difference is that it runs here, not on a Celery worker. A dry run reports and then rolls
everything back, the job record included: it leaves the database as it found it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts.models import User
from apps.core.command_line import add_progress_argument, progress_bar
from apps.core.exceptions import DomainError
from apps.questions.models import ImportJob, ImportStatus, QuestionStatus
from apps.questions.services.imports import create_import_job, run_import_job
from apps.questions.services.imports.validation import IMPORTABLE_STATUSES

_PROBLEM_STATUSES = ("invalid", "duplicate")


class Command(BaseCommand):
    help = (
        "Import questions from a CSV, JSON or XLSX file (docs/import-format.md), as the API "
        "and the admin upload do, with a progress bar. --dry-run validates and writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv, .json or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )
        parser.add_argument(
            "--status",
            choices=list(IMPORTABLE_STATUSES),
            default=QuestionStatus.DRAFT,
            help="status of imported questions whose row does not say (default: draft)",
        )
        parser.add_argument(
            "--as",
            dest="actor_email",
            default=None,
            help="email of the editor recorded as the questions' creator (default: none)",
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = self._actor(options["actor_email"])
        dry_run: bool = options["dry_run"]
        with transaction.atomic():
            try:
                job = create_import_job(
                    actor=actor,
                    filename=path.name,
                    content=path.read_bytes(),
                    dry_run=dry_run,
                    default_status=options["status"],
                    enqueue=False,
                )
            except DomainError as exc:
                details = "; ".join(m for ms in (exc.fields or {}).values() for m in ms)
                raise CommandError(f"{exc.message} {details}".strip()) from exc
            with progress_bar(
                self,
                options,
                total=job.total_rows,
                desc="validating" if dry_run else "importing",
                unit="row",
            ) as bar:
                job = run_import_job(job_id=job.pk, progress=bar.update)
            if dry_run:
                transaction.set_rollback(True)  # the job record too: a dry run leaves no trace
        self._report(job)
        if job.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"The import failed: {job.error}")

    def _actor(self, email: str | None) -> User | None:
        if not email:
            return None
        actor = User.objects.filter(email__iexact=email).first()
        if actor is None:
            raise CommandError(f"No user with the email {email}.")
        return actor

    def _report(self, job: ImportJob) -> None:
        for row in job.report or []:
            if row.get("status") in _PROBLEM_STATUSES:
                problems = "; ".join(row.get("errors") or [])
                self.stdout.write(f"row {row.get('row')}: {row.get('status')}: {problems}")
        if job.dry_run:
            valid = sum(r.get("status") == "valid" for r in job.report or [])
            summary = f"Dry run, nothing written: {valid} valid"
        else:
            summary = f"Import #{job.pk}: {job.created_count} created"
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary}, {job.duplicate_count} duplicate(s), {job.invalid_count} invalid, "
                f"of {job.total_rows} row(s)."
            )
        )
