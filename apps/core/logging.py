"""JSON log lines carrying the request id and user id (and, in a Celery task, the task's id and
name), never secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from celery._state import get_current_task

from apps.core.request_context import request_id_var, user_id_var

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SECRET_KEYS = {"password", "token", "access", "refresh", "secret", "authorization"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class TaskContextFilter(logging.Filter):
    """Adds ``task_id`` and ``task_name`` to a record logged while a Celery task runs (on a
    worker, or inline when tasks are eager), as the request filter adds the request id. Celery's
    own records about a task outside it ("Task ... received") take them from the context Celery
    attaches (``data``); a record that already names a task (beat's "task sent") keeps its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "task_id" in vars(record):
            return True
        task = get_current_task()
        if task is not None and task.request.id is not None:
            record.task_id = task.request.id
            record.task_name = task.name
            return True
        context = getattr(record, "data", None)
        if record.name.startswith("celery") and isinstance(context, dict) and "id" in context:
            record.task_id = context["id"]
            record.task_name = context.get("name")
        return True


class RunserverAccessFilter(logging.Filter):
    """Drops the development server's access line (``"GET /path HTTP/1.1" 200 512`` on
    ``django.server``): the request middleware logs every request already, once, with its
    request id, user and duration. The server's other records (a broken pipe, HTTPS spoken to
    it, a malformed request line) pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != '"%s" %s %s'


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key == "data" and record.name.startswith("celery"):
                # Celery's formatting context: the message already says what it means, and the
                # task's arguments and return value in it may carry personal data.
                continue
            if key.lower() in _SECRET_KEYS:
                value = "[redacted]"
            payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ClientFaultFilter(logging.Filter):
    """Logs a client's fault below ERROR. Django reports a refused request (a bad ``Host``
    header, a body over the limit, too many fields, a CSRF failure) on the
    ``django.security.<name>`` loggers at ERROR; nothing is wrong with the server, so the
    record goes on as a WARNING (to the console and to Sentry, which then keeps it as a
    breadcrumb, not an error). Attached to each of those loggers in the settings, since a
    logger's filters do not apply to records its children propagate."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = "WARNING"
        return True
