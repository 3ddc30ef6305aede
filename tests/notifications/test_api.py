from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.notifications.models import Kind, Notification, NotificationPreference
from tests.conftest import client_for
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications"
PREFS = "/api/v1/notifications/preferences"


def _make_inbox(user: User) -> dict[str, Any]:
    now = timezone.now()
    return {
        "old_unread": NotificationFactory(user=user, created_at=now - timedelta(days=3)),
        "new_read": NotificationFactory(
            user=user, created_at=now - timedelta(hours=1), is_read=True, read_at=now
        ),
        "new_unread": NotificationFactory(user=user, created_at=now - timedelta(hours=2)),
        "old_read": NotificationFactory(
            user=user, created_at=now - timedelta(days=5), is_read=True, read_at=now
        ),
    }


# --- List ------------------------------------------------------------------------------------


def test_list_is_unread_first_then_newest_with_unread_count(
    user: User, user_client: APIClient, other_user: User
) -> None:
    inbox = _make_inbox(user)
    NotificationFactory(user=other_user)

    response = user_client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert body["unread_count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [n["id"] for n in body["results"]] == [
        inbox["new_unread"].pk,
        inbox["old_unread"].pk,
        inbox["new_read"].pk,
        inbox["old_read"].pk,
    ]
    first = body["results"][0]
    assert set(first) == {
        "id",
        "title",
        "body",
        "kind",
        "link",
        "is_read",
        "read_at",
        "created_at",
    }
    assert first["is_read"] is False
    assert first["read_at"] is None


def test_unread_count_covers_all_pages(user: User, user_client: APIClient) -> None:
    for _ in range(7):
        NotificationFactory(user=user)
    NotificationFactory(user=user, is_read=True, read_at=timezone.now())

    body = user_client.get(LIST, {"page_size": 3}).json()

    assert body["count"] == 8
    assert len(body["results"]) == 3
    assert body["unread_count"] == 7
    assert body["next"] is not None
    page3 = user_client.get(LIST, {"page_size": 3, "page": 3}).json()
    assert [n["is_read"] for n in page3["results"]] == [False, True]
    assert page3["unread_count"] == 7


def test_trailing_slash_works(user: User, user_client: APIClient) -> None:
    NotificationFactory(user=user)
    assert user_client.get(LIST + "/").json()["count"] == 1


def test_list_query_count_does_not_grow_with_page_size(
    user: User, user_client: APIClient, django_assert_max_num_queries: object
) -> None:
    for _ in range(30):
        NotificationFactory(user=user)
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        small = user_client.get(LIST, {"page_size": 2})
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        large = user_client.get(LIST, {"page_size": 30})
    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) == 30


def test_list_bad_page_is_404_envelope(user: User, user_client: APIClient) -> None:
    response = user_client.get(LIST, {"page": 99})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_needs_authentication(api_client: APIClient) -> None:
    response = api_client.get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


# --- Read ------------------------------------------------------------------------------------


def test_mark_one_read(user: User, user_client: APIClient) -> None:
    notification = NotificationFactory(user=user)

    response = user_client.post(f"{LIST}/{notification.pk}/read")

    assert response.status_code == 200
    assert response.json()["is_read"] is True
    notification.refresh_from_db()
    assert notification.is_read is True
    assert notification.read_at is not None
    assert user_client.get(LIST).json()["unread_count"] == 0


def test_mark_read_twice_keeps_first_read_time(user: User, user_client: APIClient) -> None:
    notification = NotificationFactory(user=user)
    first = user_client.post(f"{LIST}/{notification.pk}/read").json()["read_at"]
    second = user_client.post(f"{LIST}/{notification.pk}/read/").json()["read_at"]
    assert first == second


def test_mark_read_of_another_users_notification_is_404(
    user: User, other_user: User, user_client: APIClient
) -> None:
    theirs = NotificationFactory(user=other_user)

    response = user_client.post(f"{LIST}/{theirs.pk}/read")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Notification not found."}
    theirs.refresh_from_db()
    assert theirs.is_read is False


def test_mark_read_of_missing_notification_is_404(user_client: APIClient) -> None:
    assert user_client.post(f"{LIST}/999999/read").status_code == 404


def test_mark_read_needs_post(user: User, user_client: APIClient) -> None:
    notification = NotificationFactory(user=user)
    response = user_client.get(f"{LIST}/{notification.pk}/read")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_read_all_marks_only_the_callers(
    user: User, other_user: User, user_client: APIClient
) -> None:
    for _ in range(3):
        NotificationFactory(user=user)
    NotificationFactory(user=user, is_read=True, read_at=timezone.now())
    theirs = NotificationFactory(user=other_user)

    response = user_client.post(f"{LIST}/read-all")

    assert response.status_code == 200
    assert response.json() == {"updated": 3}
    assert not Notification.objects.filter(user=user, is_read=False).exists()
    theirs.refresh_from_db()
    assert theirs.is_read is False
    assert user_client.post(f"{LIST}/read-all").json() == {"updated": 0}


# --- Preferences -----------------------------------------------------------------------------


def test_preferences_default_without_a_row(user: User, user_client: APIClient) -> None:
    response = user_client.get(PREFS)

    assert response.status_code == 200
    assert response.json() == {
        "in_app_broadcasts": True,
        "in_app_reminders": True,
        "in_app_progress": True,
        "in_app_content": True,
        "email_broadcasts": False,
        "email_reminders": True,
        "email_weekly_summary": True,
        "email_content": False,
    }
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_patch_preferences_changes_only_given_fields(user: User, user_client: APIClient) -> None:
    response = user_client.patch(
        PREFS, {"email_weekly_summary": False, "email_broadcasts": True}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["email_weekly_summary"] is False
    assert body["email_broadcasts"] is True
    assert body["email_reminders"] is True
    stored = NotificationPreference.objects.get(user=user)
    assert stored.email_weekly_summary is False
    assert stored.email_broadcasts is True
    assert user_client.get(PREFS).json() == body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email_reminders": "perhaps"}, "email_reminders"),
        ({"email_reminders": False, "push_everything": True}, "push_everything"),
        ({}, "non_field_errors"),
    ],
)
def test_patch_preferences_bad_input_is_400_and_writes_nothing(
    user: User, user_client: APIClient, payload: dict[str, object], field: str
) -> None:
    response = user_client.patch(PREFS, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_preferences_are_per_user(user: User, other_user: User, user_client: APIClient) -> None:
    user_client.patch(PREFS, {"in_app_broadcasts": False}, format="json")
    assert client_for(other_user).get(PREFS).json()["in_app_broadcasts"] is True


def test_kinds_in_the_api_are_the_model_kinds(user: User, user_client: APIClient) -> None:
    NotificationFactory(user=user, kind=Kind.REMINDER, link="/practice")
    result = user_client.get(LIST).json()["results"][0]
    assert result["kind"] == "reminder"
    assert result["link"] == "/practice"


def test_schema_documents_unread_count(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/notifications" in paths
    assert "/api/v1/notifications/{notification_id}/read" in paths
    assert "/api/v1/notifications/read-all" in paths
    assert "/api/v1/notifications/preferences" in paths
    ref = paths["/api/v1/notifications"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "unread_count" in component["properties"]
