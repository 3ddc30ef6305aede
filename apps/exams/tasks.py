"""Periodic exam jobs. Thin and idempotent: they call services."""

from __future__ import annotations

from celery import shared_task

from apps.exams.services import submit_expired_sessions


@shared_task(name="exams.auto_submit_expired")
def auto_submit_expired() -> int:
    """Scores every open session whose deadline (plus grace) has passed, with what was saved.
    Safe to run concurrently or repeatedly: each session is scored exactly once."""
    return submit_expired_sessions()
