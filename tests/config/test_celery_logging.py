"""Celery's worker and beat log JSON through the settings' LOGGING, with the task's id and name
(apps/core/observability/celery_logging.py), in a process started the way `celery worker` and
`celery beat` start: Celery's own logging set-up, then a traced task, then a beat send."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from apps.core.logging import JsonFormatter, TaskContextFilter

ROOT_DIR = Path(__file__).resolve().parent.parent.parent

SCRIPT = r"""
import logging

import django

django.setup()
from celery.signals import beat_init

from config.celery import app

app.log.setup(loglevel="INFO", redirect_stdouts=True)  # what a worker and beat do at start


@app.task(name="tests.logs_something")
def logs_something():
    logging.getLogger("apps.tests").info("inside the task")


print("worker", logs_something.apply().id)  # traced as on a worker: Celery's records too
logging.getLogger("apps.tests").info("outside any task")
beat_init.send(sender=None)
print("beat", app.send_task("core.drain_outbox").id)
print("root_handlers", len(logging.getLogger().handlers))
"""


def test_worker_and_beat_records_are_json_with_the_task_id() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CELERY_BROKER_URL="memory://",  # beat's message goes nowhere
        LOG_LEVEL="INFO",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    printed = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert printed["root_handlers"] == "1"  # ours; Celery installed no plain-text handler
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    by_message = {r["message"]: r for r in records}
    inside = by_message["inside the task"]
    assert (inside["task_id"], inside["task_name"]) == (printed["worker"], "tests.logs_something")
    succeeded = next(r for r in records if r["logger"] == "celery.app.trace")
    assert succeeded["message"].startswith(f"Task tests.logs_something[{printed['worker']}]")
    assert succeeded["task_id"] == printed["worker"]
    assert "data" not in succeeded  # Celery's context (arguments, return value) is not copied
    assert "task_id" not in by_message["outside any task"]
    sent = by_message["task sent"]
    assert (sent["task_id"], sent["task_name"]) == (printed["beat"], "core.drain_outbox")


def test_celerys_records_about_a_task_name_it_without_its_arguments() -> None:
    # As the worker logs a message it has just received (celery.worker.strategy), outside the
    # task: the context Celery attaches gives the id and name; the arguments stay out.
    context = {"id": "5f1c", "name": "accounts.send_verification_email", "args": "(42,)"}
    record = logging.getLogger("celery.worker.strategy").makeRecord(
        "celery.worker.strategy",
        logging.INFO,
        __file__,
        1,
        "Task %(name)s[%(id)s] received",
        (context,),
        None,
        extra={"data": context},
    )
    assert TaskContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "Task accounts.send_verification_email[5f1c] received"
    assert (line["task_id"], line["task_name"]) == ("5f1c", "accounts.send_verification_email")
    assert "data" not in line
    assert "(42,)" not in json.dumps(line)
