"""The Celery application: tasks are discovered in every app's ``tasks.py``.

The Beat schedule lives here, in one place, and is documented in the README.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

from apps.core.observability.celery_logging import connect_celery_logging
from apps.core.observability.celery_signals import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("openmrcs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals(app)  # task outcome metrics; tracing in each worker process
connect_celery_logging()  # worker and beat log JSON through LOGGING, with the task's id

# --- Queues: every task is routed here, in one place (tests/deploy/test_task_routes.py) ------
# Each group has its own workers (docker-compose.yml, deploy/kubernetes), so a slow job in one
# never holds up another: auto-submit (every minute, seconds of work) is never queued behind a
# broadcast fan-out (minutes) or the nightly rebuilds (tens of minutes at scale).
QUEUES = ("default", "email", "fanout", "analytics", "exams")
TASK_QUEUES: dict[str, str] = {
    # exams: deadlines are promised to the second; nothing else runs on these workers
    "exams.auto_submit_expired": "exams",
    # email: the messages someone is waiting for (verify, reset, unlock), one each, bounded by
    # the SMTP timeout; never queued behind a million weekly summaries
    "accounts.send_verification_email": "email",
    "accounts.send_password_reset_email": "email",  # nosec B105 # a queue, not a password
    "accounts.send_unlock_email": "email",
    "accounts.send_registration_attempt_email": "email",
    "notifications.send_templated_email": "email",
    # fanout: work sent to many learners: the runs that walk every target (minutes for a
    # national cohort) and the one email per target each of them enqueues
    "notifications.fan_out_broadcast": "fanout",
    "notifications.send_study_reminders": "fanout",
    "notifications.send_weekly_summaries": "fanout",
    "notifications.send_broadcast_email": "fanout",
    "notifications.send_study_reminder_email": "fanout",
    "notifications.send_weekly_summary_email": "fanout",
    # analytics: nightly rebuilds and model fits over the whole learning record, and their chunks
    "analytics.recompute_aggregates": "analytics",
    "analytics.recompute_learners": "analytics",
    "quality.analyse_items": "analytics",
    "readiness.calibrate": "analytics",
    "practice.fit_scheduler_parameters": "analytics",
    "practice.fit_learners": "analytics",
    "recommendations.compute_all": "analytics",
    # default: short housekeeping and request follow-ups
    "core.drain_outbox": "default",
    "core.prepare_history_partitions": "default",
    "core.analyze_history_partitions": "analytics",
    "accounts.flush_expired_tokens": "default",
    "billing.cancel_stripe_subscription": "default",
    "questions.process_import_job": "default",
    "quality.finish_rekey_run": "default",
    "recommendations.purge_expired_dismissals": "default",
    "notifications.prune_read_notifications": "default",
}
app.conf.task_default_queue = "default"
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_routes = {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}
# Beat touches a heartbeat file each tick (at least every 30 s): its health check reads the age.
app.conf.beat_scheduler = "apps.core.beat:HeartbeatScheduler"

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
    # recommendations: every active learner's ranking, after readiness's calibration
    "recommendations-compute": {
        "task": "recommendations.compute_all",
        "schedule": crontab(hour=4, minute=20),
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
    # core: the answer histories' monthly partitions, made ahead; session ids moved to the month
    "core-prepare-history-partitions": {
        "task": "core.prepare_history_partitions",
        "schedule": crontab(minute=7),  # every hour
        "options": {"expires": 3000},
    },
    # core: statistics of the partitioned histories as a whole (autovacuum skips the parents),
    # before the nightly rebuilds plan their reads over them
    "core-analyze-history-partitions": {
        "task": "core.analyze_history_partitions",
        "schedule": crontab(hour=2, minute=10),
        "options": {"expires": 3600},
    },
    "notifications-drain-outbox": {
        "task": "core.drain_outbox",
        "schedule": crontab(),  # every minute
        "options": {"expires": 55},
    },
}
