"""Development: debug on, console email, embedded defaults unless the environment says more."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SEED_PRINT_CREDENTIALS = True
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=100)
