"""The Celery application: tasks are discovered in every app's ``tasks.py``.

The Beat schedule lives here, in one place, and is documented in the README.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

from apps.core.observability.celery_logging import connect_celery_logging
from apps.core.observability.celery_signals import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("openmrcs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals(app)  # task outcome metrics; tracing in each worker process
connect_celery_logging()  # worker and beat log JSON through LOGGING, with the task's id

app.conf.beat_schedule = {
    "flush-expired-tokens": {
        "task": "accounts.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=15),
    },
    "exams-auto-submit-expired": {
        "task": "exams.auto_submit_expired",
        "schedule": crontab(),  # every minute
    },
    # analytics: nightly rebuild of the aggregates from the raw record (repairs any drift)
    "analytics-recompute-aggregates": {
        "task": "analytics.recompute_aggregates",
        "schedule": crontab(hour=2, minute=30),
    },
    # quality: item analysis of every answered question version, after the aggregates' rebuild
    "quality-analyse-items": {
        "task": "quality.analyse_items",
        "schedule": crontab(hour=3, minute=30),
    },
    # readiness: the Rasch calibration from first attempts and every learner's ability
    "readiness-calibrate": {
        "task": "readiness.calibrate",
        "schedule": crontab(hour=3, minute=50),
    },
    # practice: each candidate's own FSRS weights from their reviews, once they have enough
    "practice-fit-scheduler-parameters": {
        "task": "practice.fit_scheduler_parameters",
        "schedule": crontab(hour=4, minute=10),
    },
    # recommendations: forget dismissals whose hiding period is over
    "recommendations-purge-dismissals": {
        "task": "recommendations.purge_expired_dismissals",
        "schedule": crontab(hour=4, minute=45),
    },
    # notifications: weekly summary, study reminders, pruning, the outbox of unpublished tasks
    "notifications-weekly-summary": {
        "task": "notifications.send_weekly_summaries",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    "notifications-study-reminders": {
        "task": "notifications.send_study_reminders",
        "schedule": crontab(hour=17, minute=0),
    },
    "notifications-prune-read": {
        "task": "notifications.prune_read_notifications",
        "schedule": crontab(hour=4, minute=30),
    },
    "notifications-drain-outbox": {
        "task": "core.drain_outbox",
        "schedule": crontab(),  # every minute
        "options": {"expires": 55},
    },
}
