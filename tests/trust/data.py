"""Puts personal data for one user in every app, through the apps' own services, so the export
and deletion tests see the rows the product really writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from apps.accounts.models import Role, User
from apps.accounts.tokens import decode_refresh_token, issue_tokens_for
from apps.analytics.services.recording import record_heartbeat
from apps.exams.models import ExamTemplate
from apps.exams.services.answering import AnswerInput, save_exam_answers
from apps.exams.services.scoring import submit_exam_session
from apps.exams.services.starting import start_exam_session
from apps.notifications.services.inbox import notify_user, update_preferences
from apps.practice import services as practice
from apps.questions.models import AnswerOption, Question
from apps.recommendations.services import dismiss_topic
from apps.taxonomy.models import Category
from tests.accounts.factories import DEFAULT_PASSWORD as PASSWORD
from tests.accounts.factories import UserFactory
from tests.exams.factories import blueprint_template, make_bank


@dataclass
class Bank:
    categories: list[Category]
    template: ExamTemplate


def make_content() -> Bank:
    """Two categories of published single-best-answer questions and a 4-question exam."""
    first, second = make_bank(categories=2, per_category=4)
    return Bank([first, second], blueprint_template({first: 2, second: 2}, duration_minutes=30))


def key_of(question_id: int) -> list[int]:
    return sorted(
        AnswerOption.objects.filter(question_id=question_id, is_correct=True).values_list(
            "id", flat=True
        )
    )


@dataclass
class Marks:
    """Values unique to one user, to look for in an export."""

    note: str
    report: str
    notification: str
    practice_session_id: int
    exam_session_id: int


def give_personal_data(user: User, bank: Bank) -> Marks:
    """Practice (session, answers, flag with note, report), an exam (sat and submitted), a
    heartbeat, a dismissal, a notification and preferences, and a login (a device)."""
    tag = f"u{user.pk}"
    session = practice.create_practice_session(user=user, question_count=3)
    for i, qid in enumerate(session.question_ids[:2]):
        right = key_of(qid)
        options = Question.objects.get(pk=qid).options.values_list("id", flat=True)
        chosen = right if i == 0 else [next(o for o in options if o not in right)]
        practice.record_practice_answer(
            user=user,
            session_id=session.pk,
            question_id=qid,
            selected_option_ids=chosen,
            time_spent_sec=20,
        )
    first_qid = session.question_ids[0]
    practice.set_question_flag(user=user, question_id=first_qid, note=f"note of {tag}")
    practice.report_question(
        user=user, question_id=first_qid, reason="other", message=f"report of {tag}"
    )
    exam = start_exam_session(user=user, template_id=bank.template.pk).session
    save_exam_answers(
        user=user,
        session_id=exam.pk,
        answers=[
            AnswerInput(question_id=qid, selected_option_ids=key_of(qid), time_spent_sec=15)
            for qid in exam.question_ids[:3]
        ],
    )
    submit_exam_session(session_id=exam.pk, user=user)
    record_heartbeat(user_id=user.pk, seconds=30)
    dismiss_topic(user_id=user.pk, category_slug=bank.categories[1].slug)
    notify_user(user=user, title=f"notification of {tag}")
    update_preferences(user=user, changes={"email_content": True})
    Client().post(
        "/api/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_USER_AGENT=f"agent of {tag}",
    )
    return Marks(
        note=f"note of {tag}",
        report=f"report of {tag}",
        notification=f"notification of {tag}",
        practice_session_id=session.pk,
        exam_session_id=exam.pk,
    )


@dataclass
class World:
    """Real objects for path parameters, so that fuzzing reaches more than 404s."""

    token: str
    ids: dict[tuple[str, str], Any]
    # (path prefix, body field) -> a real value, used only when the generated body has the field
    body: dict[tuple[str, str], Any]


def make_world(role: str) -> World:
    """A user of ``role`` with a practice session (one answer, one flag), an open exam, a
    notification and a second device, on fresh content."""
    bank = make_content()
    user = UserFactory(role=role, is_staff=role != Role.USER)
    session = practice.create_practice_session(user=user, question_count=3)
    first = session.question_ids[0]
    practice.record_practice_answer(
        user=user,
        session_id=session.pk,
        question_id=first,
        selected_option_ids=key_of(first),
        time_spent_sec=10,
    )
    practice.set_question_flag(user=user, question_id=first, note="a note")
    exam = start_exam_session(user=user, template_id=bank.template.pk).session  # left open
    notification = notify_user(user=user, title="Hello")
    other_device = issue_tokens_for(user=user)
    unanswered = session.question_ids[1]
    exam_question = exam.question_ids[0]
    token = issue_tokens_for(user=user)["access"]
    return World(
        token=token,
        ids={
            ("/practice/sessions/", "session_id"): session.pk,
            ("/exams/sessions/", "session_id"): exam.pk,
            ("/practice/flags/", "question_id"): first,
            ("/notifications/", "notification_id"): notification.pk if notification else 0,
            ("/categories/", "slug"): bank.categories[0].slug,
            ("/questions/", "id"): first,
            ("/me/devices/", "device_id"): decode_refresh_token(other_device["refresh"])["sid"],
        },
        body={
            ("/practice/sessions/", "question_id"): unanswered,
            ("/practice/sessions/", "selected_option_ids"): key_of(unanswered),
            ("/practice/flags", "question_id"): first,
            ("/practice/reports", "question_id"): first,
            ("/exams/sessions/", "question_id"): exam_question,
            ("/exams/sessions/", "selected_option_ids"): exam.option_order[str(exam_question)][:1],
            ("/exams/sessions", "template_id"): bank.template.pk,
            ("/recommendations/", "category_slug"): bank.categories[0].slug,
        },
    )
