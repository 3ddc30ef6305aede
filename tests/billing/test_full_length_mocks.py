"""Full-length mocks (as many questions as the paper they stand for) need the
``full_length_mocks`` entitlement once billing is on; shorter mocks never do, and with billing
off nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing.models import Plan
from apps.exams.models import ExamSession, ExamTemplate, PaperSpec
from tests.billing.conftest import NOW, checkout_completed, deliver, subscription_event
from tests.conftest import client_for
from tests.exams.factories import blueprint_template, make_bank

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/exams/sessions"


@pytest.fixture
def paper_of_six(db: Any) -> PaperSpec:
    """Paper 1 as a six-question paper, so that a six-question mock is full length."""
    return PaperSpec.objects.create(
        paper=1, name="Paper 1", question_count=6, duration_minutes=6, minimum_percent=70
    )


@pytest.fixture
def full_length(paper_of_six: PaperSpec) -> ExamTemplate:
    first, second = make_bank(categories=2, per_category=5)
    return blueprint_template({first: 3, second: 3}, paper=1, duration_minutes=30)


@pytest.fixture
def short(paper_of_six: PaperSpec) -> ExamTemplate:
    (category,) = make_bank(categories=1, per_category=4)
    return blueprint_template({category: 4}, paper=1, duration_minutes=30)


def _start(client: APIClient, template: ExamTemplate) -> Any:
    return client.post(SESSIONS, {"template_id": template.id}, format="json")


def test_billing_off_everyone_starts_a_full_length_mock(
    user_client: APIClient, full_length: ExamTemplate
) -> None:
    assert _start(user_client, full_length).status_code == 201


@pytest.mark.usefixtures("billing_on")
class TestBillingOn:
    def test_without_the_entitlement_a_full_length_mock_is_403(
        self, user_client: APIClient, full_length: ExamTemplate
    ) -> None:
        response = _start(user_client, full_length)
        assert response.status_code == 403
        assert response.json()["code"] == "entitlement_required"
        assert "full_length_mocks" in response.json()["message"]
        assert not ExamSession.objects.exists()

    def test_a_shorter_mock_needs_no_entitlement(
        self, user_client: APIClient, short: ExamTemplate
    ) -> None:
        assert _start(user_client, short).status_code == 201

    def test_the_entitlement_lets_the_learner_start_it(
        self, user: User, user_client: APIClient, full_length: ExamTemplate, mocks_plan: Plan
    ) -> None:
        deliver(APIClient(), checkout_completed(user_id=user.pk, plan=mocks_plan))
        deliver(APIClient(), subscription_event(status="active", price_id="price_mocks"))
        assert _start(user_client, full_length).status_code == 201

    def test_a_mock_begun_before_a_lapse_can_be_resumed(
        self, user: User, full_length: ExamTemplate, mocks_plan: Plan, time_machine: Any
    ) -> None:
        stripe_side = APIClient()
        deliver(stripe_side, checkout_completed(user_id=user.pk, plan=mocks_plan))
        deliver(stripe_side, subscription_event(status="active", price_id="price_mocks"))
        first = _start(client_for(user), full_length)
        assert first.status_code == 201
        deliver(
            stripe_side,
            subscription_event(
                status="canceled",
                event_type="customer.subscription.deleted",
                price_id="price_mocks",
                created=NOW + timedelta(minutes=1),
            ),
        )
        time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
        again = _start(client_for(user), full_length)
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
