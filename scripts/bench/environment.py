"""The benchmark's surroundings: paths, the server's environment, the bench database (created,
migrated, filled, vacuumed) and facts about the machine for the record."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from apps.bench.constants import BENCH_EMAIL_DOMAIN

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/openmrcs_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CACHE_PREFIX = "bench"
API = "/api/v1"


def log(message: str) -> None:
    print(message, flush=True)


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DJANGO_SECRET_KEY": "bench-" + secrets.token_hex(32),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": CACHE_PREFIX,
            "ENVIRONMENT": "bench",
            # One run makes thousands of requests per user and logs in a few times from one IP.
            # DRF's throttle keeps every request time of the window in the cache and rewrites the
            # list on each request; a one-second window keeps that list about as short as a real
            # user's, so the throttle costs what it costs in production.
            "THROTTLE_USER": "1000000/s",
            "THROTTLE_ANON": "1000000/s",
            "THROTTLE_LOGIN": "1000/min",
            "JWT_ACCESS_MINUTES": "180",
        }
    )
    return env


def manage(args: argparse.Namespace, *command: str) -> None:
    subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=server_env(args), check=True)


def psql_params(database_url: str, *, dbname: str | None = None) -> dict[str, Any]:
    url = urlparse(database_url)
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or None,
        "dbname": dbname or url.path.lstrip("/"),
        "autocommit": True,
    }


def ensure_database(database_url: str) -> None:
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(**psql_params(database_url, dbname="postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def dataset_shape(database_url: str) -> dict[str, int]:
    """How many bench users and answer facts the bench database holds (0 if none)."""
    import psycopg

    try:
        with psycopg.connect(**psql_params(database_url)) as conn:
            users = conn.execute(
                "SELECT count(*) FROM accounts_user WHERE email LIKE %s",
                [f"%@{BENCH_EMAIL_DOMAIN}"],
            ).fetchone()
            facts = conn.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'analytics_answerfact'"
            ).fetchone()
    except psycopg.Error:
        return {"users": 0, "facts": 0}
    return {"users": int(users[0]) if users else 0, "facts": int(facts[0]) if facts else 0}


# Tables that earlier runs rewrote (answers, submits, sessions): vacuumed before each run.
VACUUMED_TABLES = (
    "questions_question",
    "questions_answeroption",
    "practice_practicesession",
    "practice_practiceattempt",
    "practice_reviewcard",
    "exams_examsession",
    "exams_examanswer",
    "analytics_learnerstate",
    "analytics_dailyactivity",
    "analytics_categoryprogress",
)


def vacuum(database_url: str) -> dict[str, Any]:
    """``VACUUM (ANALYZE)`` of the tables the benchmark writes, so that every run starts from
    the state autovacuum keeps a production database in, whatever earlier runs left (a server
    with autovacuum off, as some development machines run, would otherwise slow down run after
    run from dead rows: 180 question rows rewritten by every exam submit). Returns the server's
    autovacuum setting for the record."""
    import psycopg

    with psycopg.connect(**psql_params(database_url)) as conn:
        (autovacuum,) = conn.execute("SHOW autovacuum").fetchone() or ("unknown",)
        for table in VACUUMED_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")  # names from the list above
    return {"autovacuum": autovacuum, "vacuumed": list(VACUUMED_TABLES)}


def build_data(args: argparse.Namespace) -> None:
    ensure_database(args.database_url)
    manage(args, "migrate", "--noinput", "-v", "0")
    command = ["bench_data", "--tier", args.tier, "--seed", str(args.seed), "--wipe"]
    manage(args, *command)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def git_commit() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    return ""
