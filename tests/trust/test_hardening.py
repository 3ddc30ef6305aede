"""Headers, deploy configuration and mass assignment: the hardening that is easy to lose in a
refactor, each proved by a request or by Django's own deploy check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.exams.models import ExamSession
from apps.practice.models import PracticeSession
from tests.trust.data import make_content

ROOT = Path(__file__).resolve().parents[2]


def test_personal_responses_carry_the_browser_hardening_headers(user_client: APIClient) -> None:
    response = user_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("application/json")


def test_error_responses_are_not_stored_either(api_client: APIClient, db: Any) -> None:
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_the_deploy_check_is_clean_with_hsts_for_a_year_and_subdomains() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "deploy-check-" + os.urandom(32).hex(),
        "DJANGO_ALLOWED_HOSTS": "openmrcs.example.com",
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds, subdomains, debug = shown.stdout.split()[-3:]
    assert int(seconds) >= 365 * 24 * 3600
    assert subdomains == "True"
    assert debug == "False"


def test_practice_session_refuses_owner_and_score_fields(
    user: User, other_user: User, user_client: APIClient
) -> None:
    make_content()
    response = user_client.post(
        "/api/v1/practice/sessions",
        {
            "question_count": 2,
            "user": other_user.pk,
            "user_id": other_user.pk,
            "answered": 2,
            "correct": 2,
            "completed_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )
    # Undeclared keys are refused, not ignored (issue 13): each is named, nothing is created.
    assert response.status_code == 400, response.content
    assert {"user", "user_id", "answered", "correct", "completed_at"} <= set(
        response.json()["fields"]
    )
    assert not PracticeSession.objects.exists()


def test_exam_session_refuses_score_status_owner_and_deadline(
    user: User, other_user: User, user_client: APIClient
) -> None:
    bank = make_content()
    response = user_client.post(
        "/api/v1/exams/sessions",
        {
            "template_id": bank.template.pk,
            "user": other_user.pk,
            "score_percent": 100,
            "status": "submitted",
            "expires_at": "2100-01-01T00:00:00Z",
            "deadline": "2100-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert {"user", "score_percent", "status", "expires_at", "deadline"} <= set(
        response.json()["fields"]
    )
    assert not ExamSession.objects.exists()


def test_profile_role_cannot_be_raised(user: User, user_client: APIClient) -> None:
    response = user_client.patch("/api/v1/me", {"role": "admin"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["fields"]
    user.refresh_from_db()
    assert user.role == "user"
