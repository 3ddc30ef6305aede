"""Fails with a clear message when PostgreSQL or Redis (needed by the tests) is unreachable."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis


def main() -> int:
    failures: list[str] = []
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/openmrcs")
    parsed = urlparse(db_url)
    try:
        psycopg.connect(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        failures.append(
            f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({exc}).\n"
            "  Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
            "  or set TEST_DATABASE_URL to a reachable server."
        )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        failures.append(
            f"Redis is not reachable at {redis_url} ({exc}).\n"
            "  Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''\n"
            "  or set TEST_REDIS_URL to a reachable server."
        )
    for failure in failures:
        print(f"check_services: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
