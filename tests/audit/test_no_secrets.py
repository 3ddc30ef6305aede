"""No password, token or secret ever appears in the audit trail or in a log line.

Drives every credential-handling flow through the API (register, verify, login with a wrong and
a right password, refresh, change password, logout, reset, export, logout-all, a staff password
set, deletion), then scans every stored audit event (all columns, before and after included)
and every log record captured at INFO, both raw and as the JSON formatter writes it.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.core.logging import JsonFormatter, RequestContextFilter
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db

FIRST = "first secret passphrase 7781"
WRONG = "wrong guess passphrase 5521"
SECOND = "second secret passphrase 9932"
THIRD = "third secret passphrase 4417"
STAFF_SET = "staff chosen passphrase 3309"


def token_from(message: mail.EmailMessage) -> str:
    match = re.search(r"token=([^\s&\"]+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def audit_text() -> str:
    rows = AuditEvent.objects.values_list(
        "actor_label", "action", "target_type", "target_id", "before", "after", "request_id"
    )
    return "\n".join(repr(row) for row in rows)


def log_text(records: list[logging.LogRecord]) -> str:
    formatter = JsonFormatter()
    context = RequestContextFilter()
    lines = []
    for record in records:
        context.filter(record)
        lines.append(formatter.format(record))
        lines.append(repr(vars(record)))
    return "\n".join(lines)


def test_credential_flows_leave_no_secret_in_the_audit_trail_or_the_logs(
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
    admin_user: User,
) -> None:
    caplog.set_level(logging.INFO)
    api = APIClient()
    secrets: dict[str, str] = {
        "first": FIRST,
        "wrong": WRONG,
        "second": SECOND,
        "third": THIRD,
        "staff": STAFF_SET,
    }

    with django_capture_on_commit_callbacks(execute=True):
        ok(api.post("/api/v1/auth/register", {"email": "leak@example.com", "password": FIRST}), 201)
    secrets["verify"] = token_from(mail.outbox[-1])
    ok(api.post("/api/v1/auth/verify-email", {"token": secrets["verify"]}))

    # A wrong password is a failure event, without the guess.
    wrong = api.post("/api/v1/auth/login", {"email": "leak@example.com", "password": WRONG})
    assert wrong.status_code == 401
    pair = ok(api.post("/api/v1/auth/login", {"email": "leak@example.com", "password": FIRST}))
    secrets["access1"], secrets["refresh1"] = pair["access"], pair["refresh"]
    pair = ok(api.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}))
    secrets["access2"], secrets["refresh2"] = pair["access"], pair["refresh"]
    # Replaying the rotated token is a security event, without the token.
    assert api.post("/api/v1/auth/refresh", {"refresh": secrets["refresh1"]}).status_code == 401

    me = bearer(secrets["access2"])
    bad_change = me.post(
        "/api/v1/auth/change-password", {"current_password": WRONG, "new_password": SECOND}
    )
    assert bad_change.status_code == 400
    changed = me.post(
        "/api/v1/auth/change-password", {"current_password": FIRST, "new_password": SECOND}
    )
    assert changed.status_code == 204, changed.content
    ok(me.get("/api/v1/me/export"))
    assert me.post("/api/v1/auth/logout", {"refresh": secrets["refresh2"]}).status_code in {
        200,
        204,
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/auth/forgot-password", {"email": "leak@example.com"}).status_code
    secrets["reset"] = token_from(mail.outbox[-1])
    ok(api.post("/api/v1/auth/reset-password", {"token": secrets["reset"], "password": THIRD}))

    pair = ok(api.post("/api/v1/auth/login", {"email": "leak@example.com", "password": THIRD}))
    secrets["access3"], secrets["refresh3"] = pair["access"], pair["refresh"]
    assert bearer(pair["access"]).post("/api/v1/auth/logout-all").status_code in {200, 204}

    # A password set by staff in the admin.
    user = User.objects.get(email="leak@example.com")
    staff = Client()
    staff.force_login(admin_user)
    set_by_staff = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": STAFF_SET, "password2": STAFF_SET, "usable_password": "true"},
    )
    assert set_by_staff.status_code == 302

    # A token in a URL is refused before anything could log it as a parameter.
    pair = ok(api.post("/api/v1/auth/login", {"email": "leak@example.com", "password": STAFF_SET}))
    secrets["access4"], secrets["refresh4"] = pair["access"], pair["refresh"]
    assert APIClient().get(f"/api/v1/me?access_token={pair['access']}").status_code == 400
    deleted = bearer(pair["access"]).delete("/api/v1/me", {"password": STAFF_SET})
    assert deleted.status_code == 204

    # The scan has material: the flows were audited and logged.
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "auth.login_failed",
        "auth.refresh_reused",
        "auth.password_check_failed",
        "auth.password_changed",
        "auth.password_reset",
        "auth.sessions_revoked",
        "accounts.user.password_set_by_staff",
        "account.deleted",
    } <= actions, actions
    logged = log_text(caplog.records)
    assert logged.count('"message": "request"') >= 15

    stored = audit_text()
    for name, secret in secrets.items():
        assert len(secret) >= 12
        assert secret not in stored, f"{name} found in the audit trail"
        assert secret not in logged, f"{name} found in the logs"
        # JWTs: no signature or payload part leaks either.
        for part in secret.split(".") if secret.count(".") == 2 else []:
            assert part not in stored, f"part of {name} in the audit trail"
            assert part not in logged, f"part of {name} in the logs"
