from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import Profile, User
from apps.analytics.caching import invalidate_user_caches
from apps.analytics.models import CategoryProgress
from apps.analytics.services import record_heartbeat
from apps.dashboard.selectors import dashboard_json, featured_resources
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.practice.services import create_practice_session, record_practice_answer
from apps.questions.grading import answer_keys
from apps.questions.models import AnswerOption, Question
from apps.resources.models import Resource
from apps.taxonomy.models import Category
from apps.taxonomy.selectors import active_category_rows
from apps.taxonomy.services import forget_active_categories
from tests.analytics.helpers import answer, next_session_id, publish
from tests.conftest import client_for
from tests.exams.factories import fixed_template
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/dashboard"
NOW = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)  # Wednesday; 13:00 in London (BST)


def get_dashboard(client: APIClient) -> dict[str, Any]:
    response = client.get(DASHBOARD)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def at_now(user: User) -> Iterator[APIClient]:
    with time_machine.travel(NOW, tick=False):
        yield client_for(user)


def right(question_id: int) -> list[int]:
    return answer_keys(question_ids=[question_id])[question_id]


def wrong(question_id: int) -> list[int]:
    option = AnswerOption.objects.filter(question_id=question_id, is_correct=False).first()
    assert option is not None
    return [option.pk]


# --- Shape ------------------------------------------------------------------------------------


def test_a_brand_new_learner_gets_zeros_nulls_and_not_started(
    user_client: APIClient, categories: list[Category]
) -> None:
    body = get_dashboard(user_client)
    topics = body.pop("suggested_topics")
    next_action = body["today"].pop("next_action")
    # nothing new in the (empty) bank today: the top topic itself, worth no marks off-blueprint
    assert next_action == {
        "kind": "topic",
        "label": "Practise Anatomy & Embryology",
        "category_slug": topics[0]["category_slug"],
        "expected_gain_marks": 0.0,
    }
    assert body == {
        "overall_progress": {"completed": 0, "total": 4},
        "performance": {"avg_score_percent": 0, "correct": 0, "incorrect": 0},
        "study_time": {"hours_this_week": 0.0, "delta_vs_last_week": 0.0},
        "recent_activity": {"last_practice": None, "last_exam": None},
        "featured_resources": [],
        "today": {"reviews_due": 0, "new_remaining": 0, "streak_days": 0},
        "readiness": {"status": "insufficient_data", "pass_probability": None},
    }
    assert [
        {k: t[k] for k in ("category", "category_slug", "score_percent", "reason")} for t in topics
    ] == [
        {
            "category": c.name,
            "category_slug": c.slug,
            "score_percent": 0,
            "reason": "Not Started",
        }
        for c in categories
    ]
    assert all(t["evidence"]["threshold"] == {"rule": "not_started"} for t in topics)


def test_an_empty_syllabus_is_still_a_valid_dashboard(user_client: APIClient) -> None:
    body = get_dashboard(user_client)
    assert body["overall_progress"] == {"completed": 0, "total": 0}
    assert body["suggested_topics"] == []


def test_authentication_is_required(api_client: APIClient) -> None:
    response = api_client.get(DASHBOARD)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


def test_trailing_slash(user_client: APIClient) -> None:
    assert user_client.get(f"{DASHBOARD}/").status_code == 200


# --- A busy learner -------------------------------------------------------------------------


def test_a_busy_learner(
    user: User, other_user: User, categories: list[Category], at_now: APIClient, settings: Any
) -> None:
    settings.COMPLETION_MIN_ANSWERED = 5
    settings.COMPLETION_MIN_SCORE_PERCENT = 70
    settings.RECOMMENDATION_LOW_SCORE_MIN_ANSWERED = 5
    settings.RECOMMENDATION_LOW_SCORE_PERCENT = 60
    settings.RECOMMENDATION_REVIEW_AFTER_DAYS = 14
    Profile.objects.filter(user=user).update(timezone="Europe/London")
    anatomy, physiology, pathology, _cancer = categories

    # This week (from Monday 4 May, London): anatomy 5 of 6, 10 minutes each: completed.
    this_monday = datetime(2026, 5, 3, 23, 30, tzinfo=UTC)  # 00:30 Monday in London
    publish(
        *(
            answer(user, make_question(anatomy), correct=i < 5, at=this_monday, seconds=600)
            for i in range(6)
        )
    )
    # Last week: physiology 3 of 6, 5 minutes each: a low score.
    last_week = datetime(2026, 5, 3, 22, 30, tzinfo=UTC)  # 23:30 Sunday in London
    publish(
        *(
            answer(user, make_question(physiology), correct=i < 3, at=last_week, seconds=300)
            for i in range(6)
        )
    )
    # Long ago: pathology 2 of 2: needs review.
    long_ago = NOW - timedelta(days=40)
    publish(*(answer(user, make_question(pathology), at=long_ago) for _ in range(2)))
    # Six minutes of reading this week; another learner's answers never count.
    for i in range(6):
        record_heartbeat(user_id=user.pk, seconds=60, now=NOW - timedelta(minutes=10 - i))
    publish(answer(other_user, make_question(anatomy), correct=False, at=NOW, seconds=600))

    body = get_dashboard(at_now)
    assert body["overall_progress"] == {"completed": 1, "total": 4}
    assert body["performance"] == {"avg_score_percent": 71, "correct": 10, "incorrect": 4}
    # 3600 s answering + 360 s reading = 1.1 h; last week 1800 s = 0.5 h.
    assert body["study_time"] == {"hours_this_week": 1.1, "delta_vs_last_week": 0.6}
    assert body["recent_activity"] == {"last_practice": None, "last_exam": None}
    assert [
        (t["category_slug"], t["reason"], t["score_percent"]) for t in body["suggested_topics"]
    ] == [
        ("topic-1", "Low Score", 50),
        ("topic-2", "Needs Review", 100),
        ("topic-3", "Not Started", 0),
        # ranked too (none of these categories is on a paper's blueprint, so every gain is 0
        # and the reasons order the ties)
        ("topic-0", "Keep Practising", 83),
    ]


def test_recent_activity_comes_from_practice_and_exams(
    user: User, categories: list[Category]
) -> None:
    anatomy, physiology = categories[0], categories[1]
    for _ in range(3):
        make_question(anatomy)
    exam_questions = [make_question(physiology) for _ in range(4)]
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        session = create_practice_session(user=user, question_count=3, category_slugs=["topic-0"])
        for i, qid in enumerate(session.question_ids):
            record_practice_answer(
                user=user,
                session_id=session.pk,
                question_id=qid,
                selected_option_ids=right(qid) if i < 2 else wrong(qid),
                time_spent_sec=30,
            )
        clock.shift(timedelta(days=1))
        template = fixed_template(exam_questions, name="Exam A, Paper 2", duration_minutes=60)
        exam = start_exam_session(user=user, template_id=template.pk).session
        qids = exam.question_ids
        save_exam_answers(
            user=user,
            session_id=exam.pk,
            answers=[
                AnswerInput(question_id=qids[0], selected_option_ids=right(qids[0])),
                AnswerInput(question_id=qids[1], selected_option_ids=right(qids[1])),
                AnswerInput(question_id=qids[2], selected_option_ids=wrong(qids[2])),
            ],
        )
        clock.shift(timedelta(minutes=20))
        submit_exam_session(session_id=exam.pk, user=user)
        clock.shift(timedelta(days=2))
        body = get_dashboard(client_for(user))

    assert body["recent_activity"] == {
        "last_practice": {
            "days_ago": 3,
            "score_percent": 67,
            "correct": 2,
            "incorrect": 1,
            "categories": ["Anatomy & Embryology"],
        },
        "last_exam": {
            "days_ago": 2,
            "exam": "Exam A, Paper 2",
            "score_percent": 50,  # the exam's own rule: unanswered questions count as wrong
            "time_spent_min": 20,
            "answered": 3,
        },
    }
    # Practice and exam answers both reached the learning record.
    assert body["performance"] == {"avg_score_percent": 67, "correct": 4, "incorrect": 2}


def test_last_practice_names_its_categories_in_syllabus_order_even_once_retired(
    user: User, categories: list[Category], django_capture_on_commit_callbacks: Any
) -> None:
    anatomy, physiology = categories[0], categories[1]
    questions = [make_question(physiology), make_question(anatomy)]
    session = create_practice_session(user=user, question_count=2)
    for question in questions:  # physiology answered first
        record_practice_answer(
            user=user,
            session_id=session.pk,
            question_id=question.pk,
            selected_option_ids=right(question.pk),
        )
    client = client_for(user)
    names = ["Anatomy & Embryology", "Physiology"]
    assert get_dashboard(client)["recent_activity"]["last_practice"]["categories"] == names

    # A retired category is no longer among the active ones, but the last practice still
    # names it (read from the syllabus itself).
    with django_capture_on_commit_callbacks(execute=True):
        Category.objects.filter(pk=anatomy.pk).update(is_active=False)
        forget_active_categories()
        invalidate_user_caches(user_ids=[user.pk])
    body = get_dashboard(client)
    assert body["overall_progress"]["total"] == 3
    assert body["recent_activity"]["last_practice"]["categories"] == names


def test_another_learners_activity_is_not_shown(
    user: User, other_client: APIClient, categories: list[Category]
) -> None:
    make_question(categories[0])
    session = create_practice_session(user=user, question_count=1)
    qid = session.question_ids[0]
    record_practice_answer(
        user=user, session_id=session.pk, question_id=qid, selected_option_ids=right(qid)
    )
    body = get_dashboard(other_client)
    assert body["recent_activity"] == {"last_practice": None, "last_exam": None}
    assert body["performance"]["correct"] == 0


def test_featured_resources(user_client: APIClient, categories: list[Category]) -> None:
    for i in range(8):
        Resource.objects.create(
            kind="video",
            title=f"Video {i}",
            url=f"https://videos.example.com/{i}",
            thumbnail_url=f"https://img.example.com/{i}.jpg",
            duration_sec=600 + i,
            is_featured=True,
            order=10 - i,
        )
    Resource.objects.create(
        kind="article",
        title="Draft",
        url="https://x.example.com",
        is_featured=True,
        order=0,
        is_published=False,
    )
    Resource.objects.create(kind="article", title="Plain", url="https://y.example.com", order=0)
    resources = get_dashboard(user_client)["featured_resources"]
    assert [r["title"] for r in resources] == [f"Video {i}" for i in range(7, 1, -1)]
    assert resources[0] == {
        "id": Resource.objects.get(title="Video 7").pk,
        "kind": "video",
        "title": "Video 7",
        "duration_sec": 607,
        "url": "https://videos.example.com/7",
        "thumbnail_url": "https://img.example.com/7.jpg",
    }


def test_featured_resources_are_cached_for_everyone(
    django_assert_num_queries: Any, categories: list[Category]
) -> None:
    first = featured_resources()
    Resource.objects.create(
        kind="video", title="New", url="https://n.example.com", is_featured=True
    )
    with django_assert_num_queries(0):
        assert featured_resources() == first


# --- Cost -------------------------------------------------------------------------------------


def _history(user: User, questions: list[Question], answers: int) -> None:
    """A practice session and a submitted exam, plus ``answers`` more answers."""
    session = create_practice_session(user=user, question_count=2)
    for qid in session.question_ids:
        record_practice_answer(
            user=user, session_id=session.pk, question_id=qid, selected_option_ids=right(qid)
        )
    template = fixed_template(questions[:3], name=f"Mock for {user.pk}")
    exam = start_exam_session(user=user, template_id=template.pk).session
    save_exam_answers(
        user=user,
        session_id=exam.pk,
        answers=[AnswerInput(question_id=exam.question_ids[0], selected_option_ids=[])],
    )
    submit_exam_session(session_id=exam.pk, user=user)
    remaining = answers
    while remaining > 0:
        batch = min(remaining, len(questions))
        sid = next_session_id()
        publish(
            *(
                answer(user, q, correct=i % 4 != 0, session_id=sid)
                for i, q in enumerate(questions[:batch])
            )
        )
        remaining -= batch


def test_cost_does_not_grow_with_history(
    user: User, other_user: User, categories: list[Category]
) -> None:
    questions = [make_question(categories[i % 4]) for i in range(60)]
    _history(user, questions, 10)
    _history(other_user, questions, 3000)
    featured_resources()  # shared by everyone and cached: not part of a learner's cost
    active_category_rows()  # likewise

    def cost(who: User) -> int:
        client = client_for(who)
        get_dashboard(client)  # first use: the stored ranking is computed
        invalidate_user_caches(user_ids=[who.pk])
        with CaptureQueriesContext(connection) as ctx:
            body = get_dashboard(client)
        assert body["recent_activity"]["last_practice"] is not None
        assert body["recent_activity"]["last_exam"] is not None
        return len(ctx.captured_queries)

    small, large = cost(user), cost(other_user)
    # The token's user and session; the learner's version; progress per category; the two
    # weeks' study time; the last practice (its category names come from the progress read);
    # the last exam; the stored ranking; the dismissals; today's block (apps/study: the cards,
    # the day's answers and new cards, the streak; the bank's size is read once a minute).
    assert small == large == 12


def test_a_cached_dashboard_costs_only_authentication(
    user_client: APIClient, user: User, categories: list[Category], django_assert_num_queries: Any
) -> None:
    first = user_client.get(DASHBOARD).content
    with django_assert_num_queries(2):  # the token's user and session; the learner's version
        assert user_client.get(DASHBOARD).content == first


def test_dashboard_cache_hits_and_misses_are_counted(
    user_client: APIClient, categories: list[Category]
) -> None:
    from apps.core.observability.metrics import CACHE_LOOKUPS

    def count(result: str) -> float:
        return CACHE_LOOKUPS.labels("dashboard", result)._value.get()

    hits, misses = count("hit"), count("miss")
    user_client.get(DASHBOARD)
    user_client.get(DASHBOARD)
    assert (count("hit") - hits, count("miss") - misses) == (1, 1)


# --- Cache invalidation --------------------------------------------------------------------------


def test_an_answer_shows_at_once_through_the_practice_api(
    user: User,
    user_client: APIClient,
    categories: list[Category],
    django_capture_on_commit_callbacks: Any,
) -> None:
    for _ in range(2):
        make_question(categories[0])
    created = user_client.post(
        "/api/v1/practice/sessions", {"question_count": 2, "categories": ["topic-0"]}, format="json"
    )
    assert created.status_code == 201, created.content
    sid, qids = created.json()["id"], created.json()["question_ids"]
    assert get_dashboard(user_client)["performance"]["correct"] == 0  # now cached

    # The cache really is in use: a change behind its back is not seen...
    CategoryProgress.objects.create(
        user=user, category=categories[3], answered=9, correct=9, last_practiced_at=NOW
    )
    assert get_dashboard(user_client)["performance"]["correct"] == 0

    # ...but an answer invalidates it the moment it commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            f"/api/v1/practice/sessions/{sid}/attempts",
            {"question_id": qids[0], "selected_option_ids": right(qids[0]), "time_spent_sec": 45},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = get_dashboard(user_client)
    assert body["performance"] == {"avg_score_percent": 100, "correct": 10, "incorrect": 0}
    assert body["recent_activity"]["last_practice"]["correct"] == 1
    assert body["recent_activity"]["last_practice"]["categories"] == ["Anatomy & Embryology"]


def test_a_dismissal_shows_at_once(
    user_client: APIClient, categories: list[Category], django_capture_on_commit_callbacks: Any
) -> None:
    assert get_dashboard(user_client)["suggested_topics"][0]["category_slug"] == "topic-0"
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            "/api/v1/recommendations/dismiss", {"category_slug": "topic-0"}, format="json"
        )
    assert response.status_code == 204
    topics = get_dashboard(user_client)["suggested_topics"]
    assert [t["category_slug"] for t in topics] == ["topic-1", "topic-2", "topic-3"]


def test_a_timezone_change_shows_at_once(user: User, categories: list[Category]) -> None:
    publish(
        answer(
            user,
            make_question(categories[0]),
            at=datetime(2026, 5, 10, 10, 0, tzinfo=UTC),
            seconds=600,
        )
    )
    # Sunday 23:30 in UTC is already Monday 08:30 (a new week) in Tokyo.
    with time_machine.travel(datetime(2026, 5, 10, 23, 30, tzinfo=UTC), tick=False):
        client = client_for(user)
        assert get_dashboard(client)["study_time"]["hours_this_week"] == 0.2  # cached now
        Profile.objects.filter(user=user).update(timezone="Asia/Tokyo")  # as PATCH /me does
        study = get_dashboard(client)["study_time"]
    assert study == {"hours_this_week": 0.0, "delta_vs_last_week": -0.2}


# --- Redis down ---------------------------------------------------------------------------


def test_redis_down_computes_instead_of_failing(
    user: User,
    categories: list[Category],
    redis_down: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(user)
    assert get_dashboard(client)["performance"]["correct"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        publish(answer(user, make_question(categories[0]), correct=True))
    assert get_dashboard(client)["performance"]["correct"] == 1


def test_cache_errors_never_reach_the_learner(
    user: User, categories: list[Category], redis_down_raising: None
) -> None:
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017 - any connection error will do
        cache.get("probe")
    assert b'"overall_progress"' in dashboard_json(user=user)
    from apps.analytics.caching import invalidate_user_caches

    invalidate_user_caches(user_ids=[user.pk])  # swallowed and logged


def test_a_newly_featured_resource_shows_on_the_dashboard_at_once(
    editor: User, categories: list[Category], django_capture_on_commit_callbacks: Any
) -> None:
    from apps.resources.services import create_resource, update_resource

    assert featured_resources() == []  # cached, empty
    with django_capture_on_commit_callbacks(execute=True):
        resource = create_resource(
            actor=editor,
            kind="video",
            title="Inguinal canal in ten minutes",
            url="https://learn.example.org/inguinal",
            is_published=True,
            is_featured=True,
        )
    assert [r["id"] for r in featured_resources()] == [resource.pk]
    with django_capture_on_commit_callbacks(execute=True):
        update_resource(resource=resource, actor=editor, is_featured=False)
    assert featured_resources() == []
