from __future__ import annotations

import itertools
from datetime import datetime

import factory
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.notifications.models import Broadcast, Kind, Notification
from apps.questions.learning import AnsweredQuestion, publish_answers
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory
from tests.questions.factories import QuestionFactory


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    kind = Kind.SYSTEM


class BroadcastFactory(factory.django.DjangoModelFactory[Broadcast]):
    class Meta:
        model = Broadcast

    title = factory.Sequence(lambda n: f"Announcement {n}")
    body = "New questions are live."
    kind = Kind.BROADCAST
    audience = Broadcast.Audience.ALL


_sessions = itertools.count(1_000_000)


def record_study(
    *, user: User, category: Category, answered: int, correct: int, at: datetime | None = None
) -> None:
    """Reports answered questions through the learning port, as practice and exams do, so the
    analytics aggregates (daily activity, category progress) are the real ones."""
    at = at or timezone.now()
    session_id = next(_sessions)
    questions = [QuestionFactory(category=category) for _ in range(answered)]
    with transaction.atomic():
        publish_answers(
            answers=[
                AnsweredQuestion(
                    user_id=user.pk,
                    question_id=q.pk,
                    category_id=category.pk,
                    is_correct=i < correct,
                    time_spent_sec=30,
                    answered_at=at,
                    source="practice",
                    source_id=session_id,
                )
                for i, q in enumerate(questions)
            ]
        )
