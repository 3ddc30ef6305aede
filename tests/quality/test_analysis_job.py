"""The nightly item analysis job (``quality.analyse_items``) over rows in the database.

The done-when test of issue 14: 600 simulated candidates with known abilities answer a 40-item
bank under a 2PL model; one question's stored key is wrong (strong candidates choose C, the
key says A). The job flags it ``miskey_suspected`` with C's id, leaves a correct,
discriminating question alone, and reproduces the statistics the pure arithmetic gives for the
same responses. Smaller tests check first attempts, old versions, real answering flows,
idempotency and that the statements per batch do not grow with the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.models import AnswerFact
from apps.exams.models import ExamAnswer
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.practice.models import PracticeAttempt, PracticeSession
from apps.practice.services import create_practice_session, record_practice_answer
from apps.quality.models import ItemStatistics
from apps.quality.psychometrics import (
    FLAG_LOW_DISCRIMINATION,
    FLAG_MISKEY,
    OptionSpec,
    Thresholds,
    analyse_version,
)
from apps.quality.services.analysis import analyse_items
from apps.quality.tasks import analyse_items_task
from apps.questions.grading import answer_keys
from apps.questions.models import AnswerOption, Question
from apps.questions.services.versions import rekey_question, snapshot_question
from apps.taxonomy.models import Category
from tests.exams.factories import fixed_template
from tests.quality.simulated_population import (
    GOOD_ITEM,
    MISKEY_STORED,
    MISKEY_TRUE,
    MISKEYED_ITEM,
    OPTIONS,
    Population,
    simulate,
)
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

SEED = 1404


@dataclass
class Bank:
    users: list[User]
    questions: list[Question]
    option_ids: list[list[int]]  # per item, A-E
    sessions: list[PracticeSession]


def _load(pop: Population, *, tag: str, start: datetime | None = None) -> Bank:
    """Writes the population as one practice session per candidate (bulk): the questions with
    the STORED key, the attempts with the picked option, and the learning record's facts."""
    category: Category = CategoryFactory.create()
    users = User.objects.bulk_create(
        [User(email=f"{tag}-{j}@example.com", password="!") for j in range(pop.candidates)]
    )
    items = pop.stored_key.size
    questions = Question.objects.bulk_create(
        [
            Question(stem=f"{tag} item {i}: which is it?", category=category, status="published")
            for i in range(items)
        ]
    )
    options = AnswerOption.objects.bulk_create(
        [
            AnswerOption(
                question=q, text=f"{chr(65 + o)}", is_correct=o == pop.stored_key[i], order=o
            )
            for i, q in enumerate(questions)
            for o in range(OPTIONS)
        ]
    )
    option_ids = [[options[i * OPTIONS + o].pk for o in range(OPTIONS)] for i in range(items)]
    begin = start or timezone.now() - timedelta(days=30)
    sessions = PracticeSession.objects.bulk_create(
        [
            PracticeSession(user=u, seed=j, requested_count=items, question_ids=[])
            for j, u in enumerate(users)
        ]
    )
    attempts, facts = [], []
    for j, (user, session) in enumerate(zip(users, sessions, strict=True)):
        for i, question in enumerate(questions):
            at = begin + timedelta(minutes=j * items + i)
            picked = option_ids[i][int(pop.picks[j, i])]
            correct = bool(pop.correct[j, i])
            attempts.append(
                PracticeAttempt(
                    session=session,
                    question=question,
                    category=category,
                    selected_option_ids=[picked],
                    is_correct=correct,
                    question_version=1,
                    time_spent_sec=30 + i,
                    counted_time_sec=30 + i,
                    answered_at=at,
                )
            )
            facts.append(
                AnswerFact(
                    user=user,
                    question_id=question.pk,
                    category=category,
                    source="practice",
                    source_id=session.pk,
                    is_correct=correct,
                    time_spent_sec=30 + i,
                    counted_time_sec=30 + i,
                    answered_at=at,
                    local_date=at.date(),
                    question_version=1,
                )
            )
    PracticeAttempt.objects.bulk_create(attempts, batch_size=5000)
    AnswerFact.objects.bulk_create(facts, batch_size=5000)
    return Bank(users, questions, option_ids, sessions)


def _expected(pop: Population, bank: Bank, item: int) -> Any:
    """What the pure arithmetic says for this item's responses."""
    return analyse_version(
        options=[
            OptionSpec(option_id=oid, is_key=o == pop.stored_key[item])
            for o, oid in enumerate(bank.option_ids[item])
        ],
        correct=list(pop.correct[:, item]),
        rest=pop.rest(item),
        time_sec=[30 + item] * pop.candidates,
        selections=[[bank.option_ids[item][int(p)]] for p in pop.picks[:, item]],
        thresholds=Thresholds(),
    )


@pytest.fixture(scope="module")
def population() -> Population:
    return simulate(seed=SEED)


def test_the_nightly_job_flags_the_miskeyed_question_and_not_the_good_one(
    population: Population,
) -> None:
    bank = _load(population, tag="sim")
    miskeyed, good = bank.questions[MISKEYED_ITEM], bank.questions[GOOD_ITEM]
    # Second attempts (later sessions, all correct) are practised answers: they must not count.
    for j, user in enumerate(bank.users[:100]):
        later = PracticeSession.objects.create(user=user, seed=10_000 + j, requested_count=1)
        AnswerFact.objects.create(
            user=user,
            question_id=miskeyed.pk,
            category=miskeyed.category,
            source="practice",
            source_id=later.pk,
            is_correct=True,
            time_spent_sec=5,
            counted_time_sec=5,
            answered_at=timezone.now(),
            local_date=timezone.now().date(),
            question_version=1,
        )

    result = analyse_items_task.delay().get()

    assert result["questions"] == len(bank.questions)
    assert result["versions"] == len(bank.questions)
    bad = ItemStatistics.objects.get(question=miskeyed, version=1)
    assert FLAG_MISKEY in bad.flags
    assert bad.suspected_option_id == bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]
    assert bad.n == population.candidates
    by_option = {o["option_id"]: o for o in bad.options}
    assert by_option[bank.option_ids[MISKEYED_ITEM][MISKEY_STORED]]["is_key"] is True
    assert by_option[bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]]["is_key"] is False

    fine = ItemStatistics.objects.get(question=good, version=1)
    assert fine.flags == []
    assert fine.suspected_option_id is None
    expected = _expected(population, bank, GOOD_ITEM)
    assert fine.n == expected.n == population.candidates
    assert fine.facility == expected.facility
    assert fine.discrimination == expected.discrimination
    assert fine.upper_lower_index == expected.upper_lower_index
    assert fine.median_time_sec == 30 + GOOD_ITEM
    assert fine.options == [o.as_json() for o in expected.options]
    known_facility = float(population.know_probability[:, GOOD_ITEM].mean())
    assert fine.facility == pytest.approx(known_facility, abs=0.05)
    # The miskeyed item's rest scores leave out the later, correct attempts: same numbers as
    # the first attempts alone give.
    expected_bad = _expected(population, bank, MISKEYED_ITEM)
    assert bad.facility == expected_bad.facility
    assert bad.options == [o.as_json() for o in expected_bad.options]
    assert (
        not ItemStatistics.objects.filter(flags__contains=[FLAG_MISKEY])
        .exclude(question=miskeyed)
        .exists()
    )


def test_below_the_minimum_n_nothing_is_flagged_as_miskeyed(population: Population) -> None:
    small = simulate(seed=SEED, candidates=40)
    bank = _load(small, tag="few")

    analyse_items()

    row = ItemStatistics.objects.get(question=bank.questions[MISKEYED_ITEM])
    assert row.n == 40
    assert row.discrimination is not None  # computed, just not trusted yet
    assert FLAG_MISKEY not in row.flags
    assert FLAG_LOW_DISCRIMINATION not in row.flags
    assert row.suspected_option_id is None
    assert not ItemStatistics.objects.filter(flags__contains=[FLAG_MISKEY]).exists()


def test_an_old_version_keeps_its_own_key_after_a_rekey(population: Population) -> None:
    pop = simulate(seed=SEED, candidates=300, items=12)
    bank = _load(pop, tag="rekey")
    miskeyed = bank.questions[MISKEYED_ITEM]
    snapshot_question(question=miskeyed)
    rekey_question(
        question_id=miskeyed.pk,
        correct_option_ids=[bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]],
        reason="C is right",
        by=None,
    )

    analyse_items(question_ids=[miskeyed.pk])

    (row,) = ItemStatistics.objects.filter(question=miskeyed)
    assert row.version == 1  # nobody has answered version 2 yet
    assert FLAG_MISKEY in row.flags
    assert row.suspected_option_id == bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]
    keys = [o["option_id"] for o in row.options if o["is_key"]]
    assert keys == [bank.option_ids[MISKEYED_ITEM][MISKEY_STORED]]  # v1's key, not today's


def test_an_older_versions_statistics_outlive_its_attempts() -> None:
    """After a re-key the regrade moves every answer onto the new version: the old version's
    row (the evidence against its key) stays, as of when it was computed."""
    pop = simulate(seed=SEED, candidates=60, items=6)
    bank = _load(pop, tag="history")
    question = bank.questions[GOOD_ITEM]
    analyse_items(question_ids=[question.pk])
    (v1,) = ItemStatistics.objects.filter(question=question)
    Question.objects.filter(pk=question.pk).update(version=2)
    AnswerFact.objects.filter(question_id=question.pk).update(question_version=2)

    analyse_items(question_ids=[question.pk])

    rows = {r.version: r for r in ItemStatistics.objects.filter(question=question)}
    assert set(rows) == {1, 2}
    assert rows[1].computed_at == v1.computed_at  # untouched history
    assert rows[1].n == v1.n == rows[2].n


def test_a_rerun_is_idempotent_and_drops_versions_without_attempts() -> None:
    pop = simulate(seed=SEED, candidates=60, items=6)
    bank = _load(pop, tag="again")
    question = bank.questions[GOOD_ITEM]
    ItemStatistics.objects.create(question=question, version=9, n=3, flags=["too_hard"])

    first = analyse_items(question_ids=[q.pk for q in bank.questions]).as_dict()
    rows = list(ItemStatistics.objects.order_by("question_id", "version").values())
    second = analyse_items(question_ids=[q.pk for q in bank.questions]).as_dict()
    again = list(ItemStatistics.objects.order_by("question_id", "version").values())

    assert first == second
    assert not ItemStatistics.objects.filter(version=9).exists()
    assert len(rows) == 6
    for before, after in zip(rows, again, strict=True):
        assert {k: v for k, v in before.items() if k not in ("computed_at",)} == {
            k: v for k, v in after.items() if k not in ("computed_at",)
        }


def test_real_practice_and_exam_answers_are_analysed_from_first_attempts() -> None:
    """Through the answering services: the facts carry the version, practice and exam
    selections are both found, and only each candidate's first attempt counts."""
    category = CategoryFactory()
    questions = [make_question(category=category) for _ in range(3)]
    target = questions[0]
    key = answer_keys(question_ids=[target.pk])[target.pk]
    options = list(AnswerOption.objects.filter(question=target).order_by("order", "id"))
    wrong = next(o.pk for o in options if o.pk not in key)
    template = fixed_template(questions)
    candidates = [User.objects.create_user(email=f"real{j}@example.com") for j in range(4)]
    for j, user in enumerate(candidates[:2]):  # practice first, wrong then right in an exam
        session = create_practice_session(user=user, question_count=3)
        for question_id in session.question_ids:
            picked = (
                [wrong]
                if question_id == target.pk
                else answer_keys(question_ids=[question_id])[question_id]
            )
            record_practice_answer(
                user=user,
                session_id=session.pk,
                question_id=question_id,
                selected_option_ids=picked,
                time_spent_sec=20 + j,
            )
    for user in candidates:
        started = start_exam_session(user=user, template_id=template.pk)
        session_id = started.session.pk
        save_exam_answers(
            user=user,
            session_id=session_id,
            answers=[AnswerInput(q.pk, answer_keys(question_ids=[q.pk])[q.pk]) for q in questions],
        )
        submit_exam_session(session_id=session_id, user=user)

    analyse_items(question_ids=[target.pk])

    row = ItemStatistics.objects.get(question=target)
    assert row.version == target.version
    assert row.n == 4
    assert row.facility == 0.5  # two wrong first attempts (practice), two right (exam)
    rates = {o["option_id"]: o["picked_percent"] for o in row.options}
    assert rates[wrong] == 50
    assert rates[key[0]] == 50
    assert ExamAnswer.objects.filter(question=target).count() == 4


def test_the_statements_per_batch_do_not_grow_with_the_candidates() -> None:
    def statements(candidates: int, tag: str) -> int:
        bank = _load(simulate(seed=SEED, candidates=candidates, items=8), tag=tag)
        with CaptureQueriesContext(connection) as ctx:
            analyse_items(question_ids=[q.pk for q in bank.questions])
        return len(ctx.captured_queries)

    few, many = statements(20, "q20"), statements(120, "q120")
    assert few == many
    assert many <= 12


def test_no_answers_means_no_rows() -> None:
    question = make_question()
    report = analyse_items(question_ids=[question.pk])
    assert report.versions == 0
    assert not ItemStatistics.objects.exists()
