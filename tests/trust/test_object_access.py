"""Every endpoint that takes the id of a user's object, called by another user with that id:
404 (never 403, which would confirm the object exists), and the owner's object unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Role
from apps.exams.models import ExamAnswer, ExamSession, ExamSessionEvent
from apps.notifications.models import Notification
from apps.practice.models import PracticeAttempt, PracticeSession, QuestionFlag
from tests.trust.data import World, make_world
from tests.trust.test_access_matrix import AUTH, ROUTES, level_of


def _requests(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    ids = world.ids
    practice = ids[("/practice/sessions/", "session_id")]
    exam = ids[("/exams/sessions/", "session_id")]
    flagged = ids[("/practice/flags/", "question_id")]
    answer = {
        "question_id": world.body[("/practice/sessions/", "question_id")],
        "selected_option_ids": world.body[("/practice/sessions/", "selected_option_ids")],
        "time_spent_sec": 5,
    }
    signal = {"kind": "focus_lost", "at": timezone.now().isoformat()}
    exam_answer = {
        "question_id": world.body[("/exams/sessions/", "question_id")],
        "selected_option_ids": world.body[("/exams/sessions/", "selected_option_ids")],
        "time_spent_sec": 5,
    }
    return [
        ("GET", f"/api/v1/practice/sessions/{practice}", {}),
        ("GET", f"/api/v1/practice/sessions/{practice}/questions", {}),
        ("POST", f"/api/v1/practice/sessions/{practice}/attempts", answer),
        ("POST", f"/api/v1/practice/sessions/{practice}/complete", {}),
        ("GET", f"/api/v1/practice/flags/{flagged}", {}),
        ("DELETE", f"/api/v1/practice/flags/{flagged}", {}),
        ("GET", f"/api/v1/exams/sessions/{exam}", {}),
        ("POST", f"/api/v1/exams/sessions/{exam}/attempts", exam_answer),
        ("POST", f"/api/v1/exams/sessions/{exam}/events", signal),
        ("POST", f"/api/v1/exams/sessions/{exam}/submit", {}),
        ("GET", f"/api/v1/exams/sessions/{exam}/review", {}),
        ("POST", f"/api/v1/notifications/{ids[('/notifications/', 'notification_id')]}/read", {}),
        ("DELETE", f"/api/v1/me/devices/{ids[('/me/devices/', 'device_id')]}", {}),
    ]


# Content every candidate may read; nobody owns it (staff writes are covered by the matrix).
SHARED_CONTENT = ("api/v1/categories/", "api/v1/questions/", "api/v1/resources/")
OWNED_ROUTES = sorted(
    route
    for route, methods in ROUTES.items()
    if "<" in route
    and any(level_of(route, m) == AUTH for m in methods)
    and not route.startswith(SHARED_CONTENT)
)


def test_every_owned_object_route_is_covered(db: Any) -> None:
    """A new route taking an object id must be added to the requests above."""
    world = make_world(Role.USER)
    covered = set()
    for _, path, _ in _requests(world):
        for route in OWNED_ROUTES:
            pattern = "/" + route
            literal = pattern.split("<", 1)[0]
            if path.startswith(literal) and path.count("/") == pattern.count("/"):
                tail_route = pattern.rsplit(">", 1)[-1]
                if path.endswith(tail_route):
                    covered.add(route)
    assert covered == set(OWNED_ROUTES)


@pytest.mark.parametrize("role", [Role.USER, Role.EDITOR, Role.ADMIN])
def test_another_users_objects_are_404_and_untouched(role: str, db: Any) -> None:
    owner = make_world(Role.USER)
    intruder_world = make_world(role)
    # Flags are addressed by question, and every world draws its practice questions from the
    # whole bank: the intruder may have flagged the owner's question too, and would then see
    # its own flag (a 200 that is no leak). Only the owner's flag is under test.
    owner_id = PracticeSession.objects.get(
        pk=owner.ids[("/practice/sessions/", "session_id")]
    ).user_id
    QuestionFlag.objects.filter(question_id=owner.ids[("/practice/flags/", "question_id")]).exclude(
        user_id=owner_id
    ).delete()
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Bearer {intruder_world.token}")
    before = _owner_state(owner)
    for method, path, body in _requests(owner):
        response = getattr(intruder, method.lower())(path, body, format="json")
        assert response.status_code == 404, (method, path, response.status_code, response.content)
        assert response.json()["code"]
    assert _owner_state(owner) == before


def _owner_state(world: World) -> dict[str, Any]:
    practice = world.ids[("/practice/sessions/", "session_id")]
    exam = world.ids[("/exams/sessions/", "session_id")]
    return {
        "practice": PracticeSession.objects.filter(pk=practice)
        .values("answered", "completed_at")
        .first(),
        "attempts": PracticeAttempt.objects.filter(session_id=practice).count(),
        "flag": QuestionFlag.objects.filter(
            question_id=world.ids[("/practice/flags/", "question_id")]
        ).count(),
        "exam": ExamSession.objects.filter(pk=exam).values("status", "submitted_at").first(),
        "exam_answers": ExamAnswer.objects.filter(session_id=exam).count(),
        "exam_events": ExamSessionEvent.objects.filter(session_id=exam).count(),
        "notification": Notification.objects.filter(
            pk=world.ids[("/notifications/", "notification_id")]
        )
        .values("is_read")
        .first(),
        "device": AuthSession.objects.filter(pk=world.ids[("/me/devices/", "device_id")])
        .values("revoked_at")
        .first(),
    }
