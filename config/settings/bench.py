"""The benchmark (``make bench``, docs/benchmark.md): production settings plus the bench app.

The server under test runs exactly as in production (the same middleware, throttles, database
and cache settings); the bench app adds ``manage.py bench_data`` and the control endpoints
(``/api/v1/bench/control``, ``/api/v1/bench/cached``) that the figures are measured against.
"""

from .production import *  # noqa: F403
from .production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "apps.bench"]
