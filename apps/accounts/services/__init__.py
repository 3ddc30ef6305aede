"""Accounts: registration, verification, logging in and out, passwords, profile, deletion.

This package is the only code that changes users and profiles, one module per responsibility:
``registration`` (sign-up, email verification), ``sessions`` (logging in and out), ``passwords``
(reset link, change), ``account`` (profile, deletion, the nightly flush), ``limits`` (the
brute-force limit below) and ``common`` (errors, password rules, emails). Token mechanics
(issuing, rotating and revoking device sessions) live in ``tokens.py``; reads in
``selectors.py``.

Brute force: every failed password check (login, change password, delete account) is a
``LoginFailure`` row keyed by the normalised email, in PostgreSQL, so the limit holds with
Redis down. After ``LOGIN_MAX_FAILURES_PER_HOUR`` failures within an hour, password checks for
that address are refused with 429 until the oldest failure leaves the window; there is no
permanent lockout. A successful login clears the address's failures.
"""

from apps.accounts.services.account import (
    PROFILE_FIELDS,
    delete_account,
    flush_expired_auth_data,
    update_profile,
)
from apps.accounts.services.common import (
    InvalidCredentials,
    InvalidEmailToken,
    TooManyLoginFailures,
    normalise_email,
)
from apps.accounts.services.limits import FAILURE_WINDOW, login_retry_after, record_login_failure
from apps.accounts.services.passwords import (
    RESET_EMAIL_TASK,
    change_password,
    request_password_reset,
    reset_password,
    send_password_reset_email,
)
from apps.accounts.services.registration import (
    REGISTRATION_ATTEMPT_EMAIL_TASK,
    VERIFICATION_EMAIL_TASK,
    register_user,
    send_registration_attempt_email,
    send_verification_email,
    verify_email,
)
from apps.accounts.services.sessions import log_in, log_out, log_out_everywhere, revoke_device

__all__ = [
    "FAILURE_WINDOW",
    "PROFILE_FIELDS",
    "REGISTRATION_ATTEMPT_EMAIL_TASK",
    "RESET_EMAIL_TASK",
    "VERIFICATION_EMAIL_TASK",
    "InvalidCredentials",
    "InvalidEmailToken",
    "TooManyLoginFailures",
    "change_password",
    "delete_account",
    "flush_expired_auth_data",
    "log_in",
    "log_out",
    "log_out_everywhere",
    "login_retry_after",
    "normalise_email",
    "record_login_failure",
    "register_user",
    "request_password_reset",
    "reset_password",
    "revoke_device",
    "send_password_reset_email",
    "send_registration_attempt_email",
    "send_verification_email",
    "update_profile",
    "verify_email",
]
