"""Development: debug on, console email, embedded defaults unless the environment says more."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SEED_PRINT_CREDENTIALS = True
# The seeded demo staff reach the admin with their password alone (set true to try 2FA).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=100)
