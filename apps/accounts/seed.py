"""Demo accounts for ``manage.py seed``: one per role. Idempotent.

With ``SEED_PRINT_CREDENTIALS`` (development settings) the accounts get a known password
(``SEED_DEMO_PASSWORD`` or the default below) and it is printed. Anywhere else they are created
with an unusable password, so seeding a shared environment never opens a known login.
Existing accounts are left exactly as they are, and their passwords are never printed: this
run did not set them.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

from apps.accounts.models import Profile, Role, User

DEFAULT_DEMO_PASSWORD = "theatre list at half past eight"  # noqa: S105 (development only)  # nosec B105

DEMO_ACCOUNTS = [
    # email, role, display name, staff, superuser
    ("demo@openmrcs.local", Role.USER, "Demo Candidate", False, False),
    ("editor@openmrcs.local", Role.EDITOR, "Demo Editor", True, False),
    ("examiner@openmrcs.local", Role.EXAMINER, "Demo Examiner", True, False),
    ("admin@openmrcs.local", Role.ADMIN, "Demo Admin", True, True),
]


def seed_demo(*, stdout: Any) -> None:
    """Creates the demo accounts that are missing and says, account by account, which were
    created and which already existed. A password is printed only for an account this run
    created with it: an existing account keeps whatever password it has, which may not be the
    current ``SEED_DEMO_PASSWORD`` (or may have been changed since), so none is shown for it."""
    print_credentials = bool(getattr(settings, "SEED_PRINT_CREDENTIALS", False))
    password = os.environ.get("SEED_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    lines: list[str] = []
    created = 0
    for email, role, display_name, is_staff, is_superuser in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=password if print_credentials else None,
                role=role,
                is_staff=is_staff,
                is_superuser=is_superuser,
                is_email_verified=True,
            )
            created += 1
            state = f"created, password: {password}" if print_credentials else "created"
        else:
            state = "already existed, left as it was"
        lines.append(f"  {role:<9} {email:<24} {state}")
        Profile.objects.get_or_create(
            user=user, defaults={"display_name": display_name, "timezone": "Europe/London"}
        )
    existed = len(DEMO_ACCOUNTS) - created
    stdout.write(f"accounts: {created} demo account(s) created, {existed} already existed")
    for line in lines:
        stdout.write(line)
