"""DELETE /me: the account and its personal data go, its tokens die, anonymised statistics
stay."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Profile, User
from apps.analytics.models import (
    AnswerFact,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
    LearnerState,
)
from apps.audit.models import AuditEvent
from apps.exams.models import ExamAnswer, ExamSession
from apps.notifications.models import Notification, NotificationPreference
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag, QuestionReport
from apps.questions.models import Question
from apps.recommendations.models import TopicDismissal
from tests.trust.data import PASSWORD, Bank, give_personal_data, make_content

PERSONAL_MODELS: list[tuple[Any, str]] = [
    (Profile, "user_id"),
    (AuthSession, "user_id"),
    (PracticeSession, "user_id"),
    (PracticeAttempt, "session__user_id"),
    (QuestionFlag, "user_id"),
    (QuestionReport, "user_id"),
    (ExamSession, "user_id"),
    (ExamAnswer, "session__user_id"),
    (AnswerFact, "user_id"),
    (HeartbeatLog, "user_id"),
    (DailyActivity, "user_id"),
    (CategoryProgress, "user_id"),
    (LearnerState, "user_id"),
    (TopicDismissal, "user_id"),
    (Notification, "user_id"),
    (NotificationPreference, "user_id"),
]


def _login(user: User) -> dict[str, str]:
    response = APIClient().post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    tokens: dict[str, str] = response.json()
    return tokens


def _question_stats() -> dict[int, tuple[int, int]]:
    return {
        q.pk: (q.times_answered, q.times_correct)
        for q in Question.objects.order_by("pk").only("times_answered", "times_correct")
    }


@pytest.fixture
def content(db: Any) -> Bank:
    return make_content()


def test_deletion_kills_tokens_removes_personal_rows_and_keeps_question_statistics(
    user: User, other_user: User, content: Bank
) -> None:
    give_personal_data(user, content)
    give_personal_data(other_user, content)
    tokens = _login(user)
    user_id, email = user.pk, user.email
    for model, field in PERSONAL_MODELS:
        assert model.objects.filter(**{field: user_id}).exists(), model.__name__
    stats_before = _question_stats()
    assert sum(a for a, _ in stats_before.values()) > 0  # statistics exist to be kept
    others_before = {
        m.__name__: m.objects.filter(**{f: other_user.pk}).count() for m, f in PERSONAL_MODELS
    }

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = client.delete("/api/v1/me", {"password": PASSWORD}, format="json")
    assert response.status_code == 204

    # Both tokens are dead: 401 in the error envelope, never a 500.
    refresh = APIClient().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refresh.status_code == 401
    assert refresh.json()["code"]
    access = client.get("/api/v1/me")
    assert access.status_code == 401
    assert client.get("/api/v1/me/export").status_code == 401

    assert not User.objects.filter(pk=user_id).exists()
    for model, field in PERSONAL_MODELS:
        if model is QuestionReport:  # kept for the editors, but no longer linked to anyone
            continue
        assert not model.objects.filter(**{field: user_id}).exists(), model.__name__
    # Anonymised: question difficulty does not move when a learner leaves.
    assert _question_stats() == stats_before
    assert {
        m.__name__: m.objects.filter(**{f: other_user.pk}).count() for m, f in PERSONAL_MODELS
    } == others_before
    # The trail keeps the fact of the deletion, never the address.
    deleted = AuditEvent.objects.get(action="account.deleted", subject_user_id=user_id)
    assert email not in str(deleted.before) + str(deleted.after) + deleted.actor_label


def test_orphaned_problem_reports_hold_no_link_to_the_person(user: User, content: Bank) -> None:
    marks = give_personal_data(user, content)
    report = QuestionReport.objects.get(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_login(user)['access']}")
    assert client.delete("/api/v1/me", {"password": PASSWORD}, format="json").status_code == 204
    report.refresh_from_db()
    assert report.user_id is None
    assert report.message == marks.report  # the problem text stays for the editors


def test_wrong_password_deletes_nothing(user: User, content: Bank) -> None:
    give_personal_data(user, content)
    tokens = _login(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = client.delete("/api/v1/me", {"password": "not the password at all"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert User.objects.filter(pk=user.pk).exists()
    assert AnswerFact.objects.filter(user=user).exists()
    assert client.get("/api/v1/me").status_code == 200


def test_anonymous_delete_is_401(api_client: APIClient, db: Any) -> None:
    assert api_client.delete("/api/v1/me", {"password": "x"}, format="json").status_code == 401


def test_no_audit_row_names_a_deleted_account(user: User) -> None:
    tokens = _login(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert (
        client.post(
            "/api/v1/auth/change-password",
            {"current_password": PASSWORD, "new_password": PASSWORD + " again"},
            format="json",
        ).status_code
        == 204
    )
    email = user.email
    response = client.delete("/api/v1/me", {"password": PASSWORD + " again"}, format="json")
    assert response.status_code == 204
    assert not AuditEvent.objects.filter(actor_label=email).exists()
    events = AuditEvent.objects.filter(subject_user_id=user.pk) | AuditEvent.objects.filter(
        actor_label=f"deleted user #{user.pk}"
    )
    assert events.exists()  # the events stay, pseudonymous
    for event in AuditEvent.objects.all():
        assert email not in f"{event.actor_label} {event.before} {event.after}"
