"""``manage.py bench_data`` on the small tier (XS): PostgreSQL-side generation, reproducible,
aggregates equal to the analytics rebuild, wiping only what is bench data."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from apps.accounts.models import Profile, User
from apps.analytics.localtime import local_date, zone
from apps.analytics.models import AnswerFact, CategoryProgress, DailyActivity, LearnerState
from apps.analytics.services import recompute_aggregates
from apps.bench.constants import (
    BENCH_EMAIL_DOMAIN,
    BENCH_EXAM_TEMPLATE,
    BENCH_PASSWORD,
    BENCH_REFERENCE,
    probe_email,
)
from apps.bench.dataset import TIERS
from apps.exams.models import ExamTemplate
from apps.practice.models import PracticeAttempt, PracticeSession
from apps.questions.models import AnswerOption, Question, QuestionStatus, QuestionType
from apps.questions.normalisation import stem_fingerprint
from tests.accounts.factories import UserFactory
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

# The command commits (and its temporary tables live until commit), so these tests use real
# transactions.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("bench_app")]

TIER = TIERS["XS"]


@pytest.fixture
def syllabus() -> list[Any]:
    categories = [CategoryFactory() for _ in range(5)]
    for category in categories[:3]:
        SubcategoryFactory(category=category)
        SubcategoryFactory(category=category)
    CategoryFactory(is_active=False)
    return categories


def build(*extra: str, seed: int = 7) -> str:
    out = StringIO()
    call_command("bench_data", "--tier", "XS", "--seed", str(seed), "--no-seed", *extra, stdout=out)
    return out.getvalue()


def bench_facts() -> Any:
    return AnswerFact.objects.filter(user__email__endswith=f"@{BENCH_EMAIL_DOMAIN}")


def snapshot() -> dict[str, Any]:
    """What the seed decides (timestamps move with the clock, so they are left out)."""
    questions = list(
        Question.objects.filter(reference=BENCH_REFERENCE)
        .order_by("id")
        .values_list("stem", "type", "category__slug", "difficulty")
    )
    stems = dict(Question.objects.filter(reference=BENCH_REFERENCE).values_list("id", "stem"))
    facts = [
        (email, stems[question_id], ok)
        for email, question_id, ok in bench_facts()
        .order_by("user__email", "answered_at", "id")
        .values_list("user__email", "question_id", "is_correct")
    ]
    return {
        "questions": questions,
        "facts": facts,
        "zones": sorted(
            Profile.objects.filter(user__email__endswith=f"@{BENCH_EMAIL_DOMAIN}").values_list(
                "user__email", "timezone"
            )
        ),
    }


@pytest.mark.usefixtures("syllabus")
def test_builds_the_small_tier_with_the_shape_asked_for() -> None:
    output = build()

    users = User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}")
    assert users.count() == TIER.users + len(TIER.probes)
    assert Profile.objects.filter(user__in=users).count() == users.count()
    questions = Question.objects.filter(reference=BENCH_REFERENCE)
    assert questions.count() == TIER.questions
    assert set(questions.values_list("status", flat=True)) == {QuestionStatus.PUBLISHED}
    assert not questions.filter(category__is_active=False).exists()
    # Every active category is used; some questions sit in a subcategory of their category.
    assert questions.values("category").distinct().count() == 5
    assert questions.filter(subcategory__isnull=False).exists()
    assert (
        not questions.exclude(subcategory__isnull=True)
        .exclude(subcategory__category=F("category"))
        .exists()
    )

    # Probes have exactly their number of answers; the others share the tier's total.
    for answers in TIER.probes:
        assert bench_facts().filter(user__email=probe_email(answers)).count() == answers
    regular = bench_facts().exclude(user__email__startswith="bench-probe-").count()
    assert TIER.answers - TIER.users <= regular <= TIER.answers
    assert "seed: 7  tier: XS" in output
    assert probe_email(100) in output
    assert BENCH_PASSWORD in output
    assert "analytics_answerfact" in output


@pytest.mark.usefixtures("syllabus")
def test_questions_have_valid_option_sets_and_true_fingerprints() -> None:
    build()
    questions = Question.objects.filter(reference=BENCH_REFERENCE).annotate(
        options_n=Count("options"), correct_n=Count("options", filter=Q(options__is_correct=True))
    )
    for question in questions:
        assert question.options_n == 5
        assert question.correct_n == (2 if question.type == QuestionType.MULTI else 1)
        assert question.stem_normalised == stem_fingerprint(question.stem)
    assert questions.filter(type=QuestionType.MULTI).exists()
    assert questions.filter(type=QuestionType.SINGLE).exists()


@pytest.mark.usefixtures("syllabus")
def test_history_is_consistent_across_practice_and_the_learning_record() -> None:
    build()
    facts = bench_facts()
    attempts = PracticeAttempt.objects.filter(
        session__user__email__endswith=f"@{BENCH_EMAIL_DOMAIN}"
    )
    assert attempts.count() == facts.count()
    sessions = PracticeSession.objects.filter(user__email__endswith=f"@{BENCH_EMAIL_DOMAIN}")
    totals = sessions.aggregate(answered=Sum("answered"), correct=Sum("correct"))
    assert totals["answered"] == facts.count()
    assert totals["correct"] == facts.filter(is_correct=True).count()
    # Each fact points at its practice session and the session's question list.
    for fact in facts.order_by("?")[:50]:
        session = sessions.get(pk=fact.source_id)
        assert fact.source == "practice"
        assert session.user_id == fact.user_id
        assert fact.question_id in session.question_ids
        attempt = attempts.get(session=session, question_id=fact.question_id)
        assert attempt.is_correct == fact.is_correct
        keyed = set(
            AnswerOption.objects.filter(question_id=fact.question_id, is_correct=True).values_list(
                "id", flat=True
            )
        )
        assert (set(attempt.selected_option_ids) == keyed) == attempt.is_correct
        # The day is the learner's own, at that moment.
        tz = Profile.objects.get(user_id=fact.user_id).timezone
        assert fact.local_date == local_date(fact.answered_at, zone(tz))
    # Nothing in the future; everyone practised in the last few days.
    now = timezone.now()
    assert not facts.filter(answered_at__gt=now).exists()
    for user_id in facts.values_list("user_id", flat=True).distinct():
        assert facts.filter(user_id=user_id, answered_at__gte=now - timedelta(days=3)).exists()
    # Question statistics count the bench answers.
    stats = Question.objects.filter(reference=BENCH_REFERENCE).aggregate(
        answered=Sum("times_answered"), correct=Sum("times_correct")
    )
    assert stats == {"answered": facts.count(), "correct": facts.filter(is_correct=True).count()}


@pytest.mark.usefixtures("syllabus")
def test_aggregates_equal_the_analytics_rebuild() -> None:
    build()
    learners = list(
        User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}").values_list("id", flat=True)
    )
    assert LearnerState.objects.filter(user_id__in=learners).count() == len(learners)
    assert (
        DailyActivity.objects.filter(user_id__in=learners).aggregate(n=Sum("answered"))["n"]
        == bench_facts().count()
    )
    assert CategoryProgress.objects.filter(user_id__in=learners).exists()
    report = recompute_aggregates(user_ids=learners)
    assert report.learners == len(learners)
    assert report.changed == 0


@pytest.mark.usefixtures("syllabus")
def test_the_same_seed_gives_the_same_dataset_and_another_seed_does_not() -> None:
    build(seed=7)
    first = snapshot()
    build("--wipe", seed=7)
    assert snapshot() == first
    build("--wipe", seed=8)
    other = snapshot()
    assert other["facts"] != first["facts"]
    assert Counter(q[2] for q in other["questions"]) == Counter(q[2] for q in first["questions"])


@pytest.mark.usefixtures("syllabus")
def test_refuses_to_build_over_an_existing_dataset() -> None:
    build()
    facts = bench_facts().count()
    with pytest.raises(CommandError, match="--wipe"):
        build()
    assert bench_facts().count() == facts


@pytest.mark.usefixtures("syllabus")
def test_wipe_removes_only_the_bench_dataset() -> None:
    outsider = UserFactory(email="someone@example.org")
    build()
    assert ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE).exists()
    build("--wipe-only")
    assert not User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}").exists()
    assert not Question.objects.filter(reference=BENCH_REFERENCE).exists()
    assert not ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE).exists()
    assert not AnswerFact.objects.exists()
    assert User.objects.filter(pk=outsider.pk).exists()


@pytest.mark.usefixtures("syllabus")
def test_probe_users_log_in_with_the_printed_password() -> None:
    build()
    probe = User.objects.get(email=probe_email(1_000))
    assert probe.is_active
    assert probe.is_email_verified
    assert check_password(BENCH_PASSWORD, probe.password)


@pytest.mark.usefixtures("syllabus")
def test_exam_template_lists_180_published_bench_questions() -> None:
    build()
    template = ExamTemplate.objects.get(name=BENCH_EXAM_TEMPLATE)
    listed = template.fixed_questions.values_list("question_id", flat=True)
    assert template.total_questions == 180 == len(set(listed))
    assert (
        Question.objects.filter(
            id__in=listed, reference=BENCH_REFERENCE, status="published"
        ).count()
        == 180
    )


def test_needs_categories() -> None:
    with pytest.raises(CommandError, match="seed"):
        build()
    assert not User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}").exists()
