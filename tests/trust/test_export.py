"""GET /me/export: every personal datum about the caller, nothing of anyone else's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.models import User
from apps.accounts.personal_data import (
    CORE_KEYS,
    export_personal_data,
    personal_data_sections,
    registered_sections,
)
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from tests.conftest import client_for
from tests.trust.data import Bank, Marks, give_personal_data, make_content

URL = "/api/v1/me/export"
SECTIONS = {"practice", "exams", "analytics", "recommendations", "notifications"}


@pytest.fixture
def content(db: Any) -> Bank:
    return make_content()


@pytest.fixture
def two_users(user: User, other_user: User, content: Bank) -> tuple[Marks, Marks]:
    return give_personal_data(user, content), give_personal_data(other_user, content)


def test_every_app_registers_its_section() -> None:
    assert set(registered_sections()) >= SECTIONS


def test_export_holds_the_callers_data_from_every_section(
    user: User, user_client: APIClient, two_users: tuple[Marks, Marks]
) -> None:
    mine, _ = two_users
    response = user_client.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    doc = response.json()
    assert set(doc) == CORE_KEYS | set(registered_sections())

    assert doc["account"]["id"] == user.pk
    assert doc["account"]["email"] == user.email
    assert doc["profile"]["timezone"]
    assert any(d["user_agent"] == f"agent of u{user.pk}" for d in doc["devices"])

    practice = doc["practice"]
    assert [s["id"] for s in practice["practice_sessions"]] == [mine.practice_session_id]
    assert len(practice["practice_sessions"][0]["attempts"]) == 2
    assert [f["note"] for f in practice["question_flags"]] == [mine.note]
    assert [r["message"] for r in practice["question_reports"]] == [mine.report]

    exams = doc["exams"]["exam_sessions"]
    assert [s["id"] for s in exams] == [mine.exam_session_id]
    assert exams[0]["status"] == "submitted"
    assert len(exams[0]["answers"]) == 3

    analytics = doc["analytics"]
    assert len(analytics["answers"]) == 2 + 3  # two practice answers, three exam answers
    assert sum(h["seconds"] for h in analytics["heartbeats"]) == 30
    assert analytics["daily_activity"]
    assert analytics["category_progress"]

    assert len(doc["recommendations"]["topic_dismissals"]) == 1
    notifications = doc["notifications"]
    assert mine.notification in [n["title"] for n in notifications["notifications"]]
    assert notifications["preferences"]["email_content"] is True

    actions = {e["action"] for e in doc["audit_events"]}
    assert "account.export" not in actions  # audited after the document is built
    assert AuditEvent.objects.filter(action="account.export", subject_user_id=user.pk).count() == 1


def test_export_never_contains_another_users_data(
    user: User, other_user: User, user_client: APIClient, two_users: tuple[Marks, Marks]
) -> None:
    _, theirs = two_users
    # Something staff did to the other user, and something the other user did.
    record_event(kind="security", action="auth.login_failed", subject_user_id=other_user.pk)
    record_event(kind="content", action="x.changed", actor=other_user, after={"v": 1})

    text = user_client.get(URL).content.decode()
    for value in (
        other_user.email,
        theirs.note,
        theirs.report,
        theirs.notification,
        f"agent of u{other_user.pk}",
    ):
        assert value not in text
    doc = json.loads(text)
    assert theirs.practice_session_id not in [s["id"] for s in doc["practice"]["practice_sessions"]]
    assert theirs.exam_session_id not in [s["id"] for s in doc["exams"]["exam_sessions"]]


def test_audit_events_are_about_the_user_without_secrets_or_staff_identities(
    user: User, admin_user: User, user_client: APIClient
) -> None:
    AuditEvent.objects.create(  # written past the scrubber, as old rows might have been
        kind="security",
        action="legacy.event",
        subject_user_id=user.pk,
        after={"refresh_token": "eyJ.secret.value", "nested": {"password": "hunter2hunter2"}},
    )
    record_event(
        kind="content",
        action="accounts.role_changed",
        actor=admin_user,
        target=user,
        subject_user_id=user.pk,
        before={"role": "user"},
        after={"role": "editor"},
        ip_address="203.0.113.9",
    )
    text = user_client.get(URL).content.decode()
    assert "eyJ.secret.value" not in text
    assert "hunter2hunter2" not in text
    assert admin_user.email not in text
    assert "203.0.113.9" not in text
    events = {e["action"]: e for e in json.loads(text)["audit_events"]}
    assert events["accounts.role_changed"]["actor"] == "staff"
    assert events["accounts.role_changed"]["after"] == {"role": "editor"}
    assert events["legacy.event"]["after"]["refresh_token"] == "[redacted]"


def test_devices_never_carry_token_ids(user: User, user_client: APIClient) -> None:
    devices = user_client.get(URL).json()["devices"]
    assert devices
    assert all("refresh_jti" not in d and "jti" not in json.dumps(d) for d in devices)


def test_anonymous_is_401(api_client: APIClient, db: Any) -> None:
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"]


def test_export_is_throttled(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    rates = ScopedRateThrottle.THROTTLE_RATES
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**rates, "export": "2/hour"})
    client = client_for(user)
    codes = [client.get(URL).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_section_cannot_take_a_core_key() -> None:
    with pytest.raises(ValueError):
        personal_data_sections.provide("account", lambda *, user_id: None)


def test_export_queries_do_not_grow_with_data(
    user: User, content: Bank, django_assert_max_num_queries: Any
) -> None:
    give_personal_data(user, content)
    # 25, 3 for billing's section (its customer id, subscriptions and entitlement history) and 2
    # for the totals of archived answers (per day, per category).
    with django_assert_max_num_queries(30):
        export_personal_data(user=user)


def test_export_holds_what_sign_in_trusts_and_two_factor_without_secrets(
    user: User, user_client: APIClient, other_user: User
) -> None:
    """The networks and browsers that sign-in remembers, and an enrolled authenticator, are the
    user's data too: exported, without a token hash or a TOTP secret, and never another's."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts.models import KnownDevice, KnownNetwork

    KnownNetwork.objects.create(user=user, network="203.0.113.0/24")
    KnownNetwork.objects.create(user=other_user, network="198.51.100.0/24")
    device = KnownDevice.objects.create(user=user, token_hash="ab" * 32)
    totp = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    doc = user_client.get(URL).json()
    assert [n["network"] for n in doc["trusted_sign_in"]["networks"]] == ["203.0.113.0/24"]
    assert len(doc["trusted_sign_in"]["devices"]) == 1
    assert doc["two_factor"] == {"totp_devices": [{"name": "phone", "confirmed": True}]}
    text = str(doc)
    assert str(device.token_hash) not in text
    assert totp.key not in text
