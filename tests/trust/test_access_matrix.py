"""Role x endpoint matrix, generated from the URL configuration.

Every route under /api/v1/ must be classified below, per method; a new route (or a new method
on a route) fails ``test_every_route_is_classified`` until someone decides who may call it.
Then, for every classified method: an anonymous caller gets 401 unless the method is public, a
candidate gets 403 on staff methods, and a staff role below the one required gets 403 too.
Forbidden callers never reach a side effect, so the checks run without any fixtures' objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from apps.accounts.models import Role
from tests.accounts.factories import UserFactory
from tests.conftest import client_for

PUBLIC, AUTH, EDITOR, EXAMINER, ADMIN = "public", "authenticated", "editor", "examiner", "admin"
LEVELS = (PUBLIC, AUTH, EDITOR, EXAMINER, ADMIN)

# route (as in the URLconf) -> level for every method, or {method: level}.
MATRIX: dict[str, str | dict[str, str]] = {
    "api/v1/health/live": PUBLIC,
    "api/v1/health": PUBLIC,
    "api/v1/schema": PUBLIC,
    "api/v1/auth/register": PUBLIC,
    "api/v1/auth/verify-email": PUBLIC,
    "api/v1/auth/login": PUBLIC,
    "api/v1/auth/unlock": PUBLIC,
    "api/v1/auth/refresh": PUBLIC,
    "api/v1/auth/forgot-password": PUBLIC,
    "api/v1/auth/reset-password": PUBLIC,
    "api/v1/auth/logout": AUTH,
    "api/v1/auth/logout-all": AUTH,
    "api/v1/auth/change-password": AUTH,
    "api/v1/me": AUTH,
    "api/v1/me/export": AUTH,
    "api/v1/me/devices": AUTH,
    "api/v1/me/devices/<int:device_id>": AUTH,
    "api/v1/me/totp": AUTH,
    "api/v1/me/totp/confirm": AUTH,
    "api/v1/categories": AUTH,
    "api/v1/categories/<slug:slug>": AUTH,
    "api/v1/questions": {"GET": AUTH, "POST": EDITOR},
    "api/v1/questions/import": EDITOR,
    "api/v1/questions/import/<int:job_id>": EDITOR,
    "api/v1/questions/<int:pk>": {"GET": AUTH, "PUT": EDITOR, "PATCH": EDITOR, "DELETE": EDITOR},
    "api/v1/resources": {"GET": AUTH, "POST": EDITOR},
    "api/v1/resources/<int:pk>": {"GET": AUTH, "PATCH": EDITOR, "DELETE": EDITOR},
    "api/v1/pages": EDITOR,
    "api/v1/pages/<slug:slug>": {"GET": PUBLIC, "PATCH": EDITOR, "DELETE": EDITOR},
    "api/v1/featured-items": PUBLIC,
    "api/v1/practice/sessions": AUTH,
    "api/v1/practice/sessions/<int:session_id>": AUTH,
    "api/v1/practice/sessions/<int:session_id>/questions": AUTH,
    "api/v1/practice/sessions/<int:session_id>/attempts": AUTH,
    "api/v1/practice/sessions/<int:session_id>/complete": AUTH,
    "api/v1/practice/summary": AUTH,
    "api/v1/practice/review-queue": AUTH,
    "api/v1/practice/flags": AUTH,
    "api/v1/practice/flags/<int:question_id>": AUTH,
    "api/v1/practice/reports": AUTH,
    "api/v1/exams/templates": AUTH,
    "api/v1/exams/sessions": AUTH,
    "api/v1/exams/sessions/<int:session_id>": AUTH,
    "api/v1/exams/sessions/<int:session_id>/attempts": AUTH,
    "api/v1/exams/sessions/<int:session_id>/submit": AUTH,
    "api/v1/exams/sessions/<int:session_id>/review": AUTH,
    "api/v1/exams/sessions/<int:session_id>/events": AUTH,
    "api/v1/analytics/overview": AUTH,
    "api/v1/analytics/study-time": AUTH,
    "api/v1/analytics/categories": AUTH,
    "api/v1/analytics/heatmap": AUTH,
    "api/v1/analytics/trends": AUTH,
    "api/v1/analytics/heartbeat": AUTH,
    "api/v1/analytics/memory": AUTH,
    "api/v1/analytics/memory/cards": AUTH,
    "api/v1/analytics/readiness": AUTH,
    "api/v1/study/today": AUTH,
    "api/v1/recommendations/topics": AUTH,
    "api/v1/recommendations/dismiss": AUTH,
    "api/v1/notifications": AUTH,
    "api/v1/notifications/read-all": AUTH,
    "api/v1/notifications/preferences": AUTH,
    "api/v1/notifications/<int:notification_id>/read": AUTH,
    "api/v1/dashboard": AUTH,
    "api/v1/staff/questions/quality": EDITOR,
    "api/v1/staff/questions/<int:pk>/stats": EDITOR,
    "api/v1/staff/questions/<int:pk>/stats/refresh": EDITOR,
    "api/v1/staff/questions/<int:pk>/rekey": EDITOR,
    "api/v1/billing/plans": AUTH,
    "api/v1/billing/checkout": AUTH,
    "api/v1/billing/portal": AUTH,
    "api/v1/billing/subscription": AUTH,
    "api/v1/billing/webhooks/stripe": PUBLIC,  # Stripe calls it; the signature authenticates
}

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Who is refused (403) at each staff level, besides candidates.
BELOW = {EDITOR: (Role.EXAMINER,), EXAMINER: (Role.EDITOR,), ADMIN: (Role.EDITOR, Role.EXAMINER)}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> dict[str, tuple[str, ...]]:
    """Every route under api/v1/ with the HTTP methods its view implements."""
    routes: dict[str, tuple[str, ...]] = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        view = getattr(pattern.callback, "view_class", None) or getattr(
            pattern.callback, "cls", None
        )
        methods = tuple(m for m in HTTP_METHODS if view is None or hasattr(view, m.lower()))
        routes[route] = methods
    return routes


def level_of(route: str, method: str) -> str | None:
    entry = MATRIX.get(route)
    if isinstance(entry, dict):
        return entry.get(method)
    return entry


def _url(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "x" if m.group(1) == "slug" else "1", route)


ROUTES = api_routes()
CASES = [(route, method) for route, methods in sorted(ROUTES.items()) for method in methods]


def _send(client: APIClient, method: str, route: str) -> Any:
    return getattr(client, method.lower())(_url(route), {}, format="json")


def test_every_route_is_classified() -> None:
    unclassified = [
        f"{method} /{route}" for route, method in CASES if level_of(route, method) not in LEVELS
    ]
    assert not unclassified, f"classify these in MATRIX: {unclassified}"
    stale = sorted(set(MATRIX) - set(ROUTES))
    assert not stale, f"MATRIX lists routes that no longer exist: {stale}"


def test_the_matrix_covers_the_api() -> None:
    assert len(CASES) >= 70  # guards against the walk silently finding nothing


@pytest.mark.parametrize(("route", "method"), CASES)
def test_anonymous(route: str, method: str, db: Any) -> None:
    level = level_of(route, method)
    response = _send(APIClient(), method, route)
    if level == PUBLIC:
        assert response.status_code not in (401, 403), response.content
    else:
        assert response.status_code == 401, response.content
        assert response.json()["code"]


STAFF_CASES = [(r, m) for r, m in CASES if level_of(r, m) in (EDITOR, EXAMINER, ADMIN)]


@pytest.mark.parametrize(("route", "method"), STAFF_CASES)
def test_staff_only_methods_refuse_lower_roles(route: str, method: str, db: Any) -> None:
    level = level_of(route, method)
    assert level is not None
    for role in (Role.USER, *BELOW[level]):
        response = _send(client_for(UserFactory(role=role)), method, route)
        assert response.status_code == 403, (role, response.content)
        assert response.json()["code"]


@pytest.mark.parametrize(("route", "method"), [(r, m) for r, m in STAFF_CASES if m == "GET"])
def test_staff_reads_let_the_role_through(route: str, method: str, db: Any) -> None:
    role = {EDITOR: Role.EDITOR, EXAMINER: Role.EXAMINER, ADMIN: Role.ADMIN}[
        str(level_of(route, method))
    ]
    response = _send(client_for(UserFactory(role=role, is_staff=True)), method, route)
    assert response.status_code not in (401, 403), response.content


@pytest.mark.parametrize(
    ("route", "method"),
    [(r, m) for r, m in CASES if m == "GET" and level_of(r, m) in (PUBLIC, AUTH)],
)
def test_authenticated_reads_let_a_candidate_through(
    route: str, method: str, user_client: APIClient
) -> None:
    response = _send(user_client, method, route)
    assert response.status_code not in (401, 403), response.content


def _schema_path(route: str) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + route)
    return path.replace("{pk}", "{id}")  # drf-spectacular names a pk parameter "id"


def test_the_published_schema_agrees_with_the_matrix() -> None:
    """Client developers read who may call what from the OpenAPI document: an operation asks
    for a Bearer token exactly when the matrix says it is not public."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    checked = 0
    for route, method in CASES:
        operation = paths.get(_schema_path(route), {}).get(method.lower())
        if operation is None:
            continue  # the schema endpoint itself is not in the schema
        security = operation.get("security") or []
        anonymous_allowed = not security or {} in security
        assert anonymous_allowed == (level_of(route, method) == PUBLIC), (method, route)
        checked += 1
    assert checked == len(CASES) - 1
