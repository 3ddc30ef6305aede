"""The one Beat schedule: every entry names a task a worker would actually have."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery.schedules import crontab

from config.celery import app


@pytest.fixture(scope="module")
def registered() -> set[str]:
    # What a worker does at start-up: import every app's tasks module.
    app.loader.import_default_modules()
    return set(app.tasks.keys())


def test_every_beat_entry_names_a_registered_task(registered: set[str]) -> None:
    schedule = app.conf.beat_schedule
    assert schedule, "the Beat schedule is empty"
    missing = {name: e["task"] for name, e in schedule.items() if e["task"] not in registered}
    assert missing == {}


def test_beat_schedule_is_in_utc() -> None:
    assert app.conf.timezone == "UTC"


@pytest.mark.parametrize(
    ("entry", "task", "due", "not_due"),
    [
        (
            "notifications-weekly-summary",
            "notifications.send_weekly_summaries",
            datetime(2026, 3, 9, 7, 0, tzinfo=UTC),  # a Monday, 07:00
            datetime(2026, 3, 10, 7, 0, tzinfo=UTC),  # Tuesday
        ),
        (
            "notifications-study-reminders",
            "notifications.send_study_reminders",
            datetime(2026, 3, 10, 17, 0, tzinfo=UTC),
            datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
        ),
        (
            "notifications-prune-read",
            "notifications.prune_read_notifications",
            datetime(2026, 3, 10, 4, 30, tzinfo=UTC),
            datetime(2026, 3, 10, 5, 30, tzinfo=UTC),
        ),
        (
            "notifications-drain-outbox",
            "core.drain_outbox",
            datetime(2026, 3, 10, 13, 37, tzinfo=UTC),  # every minute
            None,
        ),
    ],
)
def test_notification_jobs_are_scheduled(
    entry: str, task: str, due: datetime, not_due: datetime | None
) -> None:
    config = app.conf.beat_schedule[entry]
    assert config["task"] == task
    schedule = config["schedule"]
    assert isinstance(schedule, crontab)
    assert due.minute in schedule.minute
    assert due.hour in schedule.hour
    assert due.isoweekday() % 7 in schedule.day_of_week
    if not_due is not None:
        assert not (
            not_due.minute in schedule.minute
            and not_due.hour in schedule.hour
            and not_due.isoweekday() % 7 in schedule.day_of_week
        )


def test_notification_tasks_have_time_limits(registered: set[str]) -> None:
    names = [n for n in registered if n.startswith("notifications.")]
    assert len(names) >= 8
    for name in names:
        task = app.tasks[name]
        assert task.time_limit, f"{name} has no hard time limit"
        assert task.soft_time_limit, name
        assert task.soft_time_limit < task.time_limit, name


@pytest.mark.parametrize(
    "name",
    [
        "notifications.send_broadcast_email",
        "notifications.send_study_reminder_email",
        "notifications.send_weekly_summary_email",
        "notifications.send_templated_email",
    ],
)
def test_email_tasks_retry_with_backoff_on_smtp_errors(registered: set[str], name: str) -> None:
    from smtplib import SMTPException

    task = app.tasks[name]
    assert SMTPException in task.autoretry_for
    assert ConnectionError in task.autoretry_for
    assert task.retry_backoff
    assert task.retry_backoff_max
    assert task.max_retries


def test_worker_settings_redeliver_tasks_of_a_lost_worker() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
