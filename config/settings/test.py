"""Tests: real PostgreSQL and Redis (defaults 127.0.0.1), fast hashing, in-memory email."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/openmrcs")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# A loaded CI machine must not turn a slow Redis reply into a silent miss; the Redis-down
# tests point at dead ports with their own short timeouts.
os.environ.setdefault("REDIS_SOCKET_TIMEOUT", "2")
os.environ.setdefault("REDIS_CONNECT_TIMEOUT", "2")

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SEED_PRINT_CREDENTIALS = False
HIBP_ONLINE = False  # tests never leave the machine; the online check has its own server
# Admin feature tests log in with force_login; tests/hardening/test_admin_otp.py turns the
# two-factor gate on and proves it.
ADMIN_REQUIRE_OTP = False
# Throttles are exercised by dedicated tests that set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "anon": "100000/min",
        "user": "100000/min",
        "login": "100000/min",
        "register": "100000/min",
        "password_reset": "100000/min",
        "export": "100000/min",
        "import": "100000/min",
    },
}

# Each xdist worker (and each concurrent run) gets its own cache namespace in the shared Redis.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_run = os.environ.get("TEST_RUN_ID", str(os.getpid()))
CACHES["default"]["KEY_PREFIX"] = f"test:{_run}:{_worker}"  # noqa: F405
