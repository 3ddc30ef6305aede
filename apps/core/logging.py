"""JSON log lines carrying the request id and user id (and, in a Celery task, the task's id and
name), never secrets."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
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


class RepeatSuppressFilter(logging.Filter):
    """Lets the first record of a kind through, then at most one per ``interval`` seconds,
    carrying ``suppressed``: how many of that kind were held back since the last one let
    through. A kind is the logger, the message and the exception's type.

    For failures that repeat on every call while they last: with Redis down, each cache call
    (several per request) logs the ignored exception with its traceback, and a minute of an
    outage at a few hundred requests per second buried everything else in the log. One line per
    minute per process says the same. ``clock`` is for tests."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[tuple[str, str, str | None], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[0] if record.exc_info else None
        kind = (record.name, str(record.msg), error.__name__ if error else None)
        now = self._clock()
        with self._lock:
            shown, held = self._kinds.get(kind, (None, 0))
            if shown is not None and now - shown < self.interval:
                self._kinds[kind] = (shown, held + 1)
                return False
            self._kinds[kind] = (now, 0)
            if len(self._kinds) > 1000:  # bounded whatever the messages
                self._kinds = {kind: (now, 0)}
        if held:
            record.suppressed = held
        return True

    def reset(self) -> None:
        with self._lock:
            self._kinds.clear()


_SHARED_REPEAT_FILTERS: dict[float, RepeatSuppressFilter] = {}


def shared_repeat_filter(interval: float = 60.0) -> RepeatSuppressFilter:
    """The process's one :class:`RepeatSuppressFilter` for ``interval`` (the ``"()"`` of the
    LOGGING filter): ``LOGGING`` may be applied twice in a process (Django's setup, then
    Celery's ``setup_logging``), and a second instance beside the first would let each kind
    through twice."""
    return _SHARED_REPEAT_FILTERS.setdefault(interval, RepeatSuppressFilter(interval))


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
