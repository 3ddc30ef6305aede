"""Development: debug on, console email, embedded PostgreSQL and Redis unless the environment
names servers.

With no ``DATABASE_URL`` the embedded PostgreSQL (``config/embedded.py``, data under
``.embedded/``) is started if it is not running and used; likewise Redis without ``REDIS_URL``.
Tasks then run inline (no worker is needed) unless ``CELERY_TASK_ALWAYS_EAGER`` says otherwise.
``make run`` stops what it started when the server stops; ``python -m config.embedded stop``
stops servers a manual command left running.
"""

import os

from config import embedded

if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = embedded.start_postgres().url
if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = embedded.start_redis().url
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SEED_PRINT_CREDENTIALS = True
# The seeded demo staff reach the admin with their password alone (set true to try 2FA).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=100)
# The benchmark's dataset command and control endpoints (never in production or the tests).
INSTALLED_APPS = [*INSTALLED_APPS, "apps.bench"]  # noqa: F405
