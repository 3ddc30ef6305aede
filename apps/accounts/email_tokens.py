"""Tokens sent by email: email verification and password reset. Both are single-use.

- Verification: signed and timestamped (``EMAIL_VERIFICATION_MAX_AGE``); bound to the address
  and to the account not being verified yet, so it works once.
- Password reset: Django's ``PasswordResetTokenGenerator`` (``PASSWORD_RESET_TIMEOUT``); its
  hash covers the password and last login, so it dies once used. The user id travels with it
  as ``<uidb64>.<token>``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.accounts.models import User

_VERIFY_SALT = "accounts.email-verification"
_password_reset = PasswordResetTokenGenerator()


def _email_fingerprint(email: str) -> str:
    # The link must not carry the address itself (links end up in logs and histories).
    return salted_hmac(_VERIFY_SALT, email).hexdigest()[:24]


def make_email_verification_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": _email_fingerprint(user.email)}, salt=_VERIFY_SALT)


def user_for_email_verification_token(token: str) -> User | None:
    """The unverified, active user the token was made for, or None (bad, expired or used)."""
    try:
        data = signing.loads(token, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
        user_id, email = int(data["u"]), str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True, is_email_verified=False).first()
    if user is None or not constant_time_compare(_email_fingerprint(user.email), email):
        return None
    return user


def make_password_reset_token(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{_password_reset.make_token(user)}"


def user_for_password_reset_token(token: str) -> User | None:
    """The active user the token was made for, or None (bad, expired or already used)."""
    uid, _, secret = token.partition(".")
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not _password_reset.check_token(user, secret):
        return None
    return user
