"""Every app hands work to Celery through apps.core.queue: with the broker down the request still
succeeds and the job waits in the outbox instead of being lost or failing the request."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.core import queue
from apps.core.models import OutboxMessage
from tests.notifications.conftest import DEAD_BROKER_URL, use_broker
from tests.questions.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_register_with_the_broker_down_succeeds_and_keeps_the_email(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with use_broker(DEAD_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "late@example.com", "password": "a long enough passphrase"},
        )
    assert response.status_code == 201
    message = OutboxMessage.objects.get()
    assert message.task_name == "accounts.send_verification_email"
    assert mail.outbox == []

    assert queue.drain_outbox()["published"] == 1  # broker back (eager in tests): delivered
    assert [m.to for m in mail.outbox] == [["late@example.com"]]
    assert not OutboxMessage.objects.exists()


def test_question_import_with_the_broker_down_is_accepted_and_kept(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    for slug in ("physiology", "general-surgery", "microbiology", "trauma", "pharmacology"):
        CategoryFactory(slug=slug, name=slug.title())
    content = (settings.BASE_DIR / "samples" / "questions-import.csv").read_bytes()
    with use_broker(DEAD_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            "/api/v1/questions/import",
            {"file": SimpleUploadedFile("q.csv", content)},
            format="multipart",
        )
    assert response.status_code == 202
    message = OutboxMessage.objects.get()
    assert message.task_name == "questions.process_import_job"
    assert message.args == [response.json()["job_id"]]
