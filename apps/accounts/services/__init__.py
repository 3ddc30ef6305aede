"""Accounts: registration, verification, logging in and out, passwords, profile, deletion.

This package is the only code that changes users and profiles, one module per responsibility:
``registration`` (sign-up, email verification), ``sessions`` (logging in and out), ``passwords``
(reset link, change), ``account`` (profile, deletion, the nightly flush), ``limits`` (the
brute-force limits below, and durable request limits), ``trust`` (known devices and networks,
the unlock link) and ``common`` (errors, password rules, emails). Token mechanics
(issuing, rotating and revoking device sessions) live in ``tokens.py``; reads in
``selectors.py``.

Brute force: every failed password check is a ``LoginFailure`` row in PostgreSQL (so the limits
hold with Redis down) that records its source, a known device or the client's network. An
attempt is refused only by its own source's failures, and strangers (sources that never signed
in to the account) are also slowed progressively once they have failed
``LOGIN_MAX_FAILURES_PER_HOUR`` times; the owner is then emailed an unlock link. A correct
password from a device or network that signed in before is never refused because of failures
from elsewhere. The design, and the durable fallback of the login, registration and reset
throttles, are in the ``limits`` docstring; known devices, networks and the unlock link in
``trust``.
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
from apps.accounts.services.limits import (
    FAILURE_WINDOW,
    login_retry_after,
    record_login_failure,
    take_durable_slot,
)
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
from apps.accounts.services.trust import UNLOCK_EMAIL_TASK, send_unlock_email, unlock_account

__all__ = [
    "FAILURE_WINDOW",
    "PROFILE_FIELDS",
    "REGISTRATION_ATTEMPT_EMAIL_TASK",
    "RESET_EMAIL_TASK",
    "UNLOCK_EMAIL_TASK",
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
    "send_unlock_email",
    "send_verification_email",
    "take_durable_slot",
    "unlock_account",
    "update_profile",
    "verify_email",
]
