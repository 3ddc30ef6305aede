"""Celery tasks of the question bank: thin, idempotent, they call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="questions.process_import_job", acks_late=True)
def process_import_job(job_id: int) -> str:
    """Processes one import job; a redelivered message finds it done and does nothing."""
    from apps.questions.services.imports import run_import_job

    return run_import_job(job_id=job_id).status
