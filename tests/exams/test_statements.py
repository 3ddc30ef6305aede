"""Each statement of apps/exams/statements.py beside the ORM expression it stands for, on the
same data: a model change that breaks one fails here, not in a candidate's exam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Case, Count, F, Model, Q, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.core import sql
from apps.exams import statements
from apps.exams.models import (
    ExamAnswer,
    ExamSession,
    ExamTemplate,
    ExamTemplateQuestion,
    SessionStatus,
)
from apps.exams.selectors import (
    fixed_question_ids,
    last_exam_summary,
    open_exam_session,
    saved_answers,
    startable_exam_template,
)
from apps.exams.services import AnswerInput, save_exam_answers, start_exam_session
from apps.exams.services.scoring import submit_exam_session
from apps.exams.statements import SavedAnswer
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.exams.factories import (
    blueprint_template,
    correct_answers,
    fixed_template,
    make_bank,
    wrong_option,
)
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

MISSING = 10**9


def fields(instance: Model) -> dict[str, Any]:
    """Every concrete field of a model instance, by attribute name."""
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def saved(answer: ExamAnswer) -> SavedAnswer:
    """An answer read by the ORM, in the shape the statements return."""
    return SavedAnswer(
        id=answer.id,
        question_id=answer.question_id,
        selected_option_ids=answer.selected_option_ids,
        flagged=answer.flagged,
        time_spent_sec=answer.time_spent_sec,
        saved_at=answer.saved_at,
    )


def orm_answers(session: ExamSession) -> list[SavedAnswer]:
    return [saved(a) for a in ExamAnswer.objects.filter(session=session).order_by("id")]


@dataclass
class Data:
    """Two candidates: one with an open session of a blueprint template (some answers saved,
    one flagged without a selection) and a submitted one of a fixed template (listed out of id
    order); the other with a session of the same blueprint. Plus an inactive template."""

    user: User
    other: User
    blueprint: ExamTemplate
    fixed: ExamTemplate
    inactive: ExamTemplate
    open: ExamSession
    submitted: ExamSession
    theirs: ExamSession


@pytest.fixture
def data(user: User, other_user: User) -> Data:
    first, second = make_bank(categories=2, per_category=5)
    blueprint = blueprint_template({first: 3, second: 3})
    pool = list(Question.objects.filter(category=second).order_by("id")[:4])
    fixed = fixed_template(
        [pool[2], pool[0], pool[3], pool[1]], name="Fixed mock, Paper 2", shuffle_questions=False
    )
    # The template's order runs against both the rows' and the questions' ids.
    ExamTemplateQuestion.objects.filter(template=fixed).update(order=10 - F("order"))
    inactive = blueprint_template({first: 2}, is_active=False)

    submitted = start_exam_session(user=user, template_id=fixed.id).session
    keys = correct_answers(submitted)
    q = submitted.question_ids
    save_exam_answers(
        user=user,
        session_id=submitted.id,
        answers=[
            AnswerInput(q[0], keys[q[0]], 30),
            AnswerInput(q[1], [wrong_option(submitted, q[1])], 20),
        ],
    )
    submitted = submit_exam_session(session_id=submitted.id, user=user)

    opened = start_exam_session(user=user, template_id=blueprint.id).session
    q = opened.question_ids
    save_exam_answers(
        user=user,
        session_id=opened.id,
        answers=[
            AnswerInput(q[2], [opened.option_order[str(q[2])][0]], 12),
            AnswerInput(q[0], None, None, flagged=True),
        ],
    )
    theirs = start_exam_session(user=other_user, template_id=blueprint.id).session
    save_exam_answers(
        user=other_user,
        session_id=theirs.id,
        answers=[AnswerInput(theirs.question_ids[0], [], 5)],
    )
    return Data(user, other_user, blueprint, fixed, inactive, opened, submitted, theirs)


# --- the reads compiled once -------------------------------------------------------------------


def test_each_compiled_query_gives_what_its_queryset_gives(data: Data) -> None:
    cases: list[tuple[sql.CompiledQuery, dict[str, Any]]] = [
        *(
            (statements.STARTABLE_TEMPLATE, {"template_id": t})
            for t in (data.blueprint.id, data.fixed.id, data.inactive.id, MISSING)
        ),
        *(
            (statements.FIXED_QUESTION_IDS, {"template_id": t})
            for t in (data.fixed.id, data.blueprint.id, MISSING)
        ),
        *(
            (statements.OPEN_SESSION, {"user_id": u.id, "template_id": t.id})
            for u in (data.user, data.other)
            for t in (data.blueprint, data.fixed, data.inactive)
        ),
        *(
            (statements.SAVED_ANSWERS, {"session_id": s})
            for s in (data.open.id, data.submitted.id, data.theirs.id, MISSING)
        ),
        *(
            (statements.LAST_SUBMITTED, {"user_id": u})
            for u in (data.user.id, data.other.id, MISSING)
        ),
    ]
    for compiled, values in cases:
        assert compiled.fetch(**values) == list(compiled.queryset(**values)), values


def test_the_startable_template_is_the_active_template_as_the_orm_reads_it(data: Data) -> None:
    for template in (data.blueprint, data.fixed):
        found = startable_exam_template(template_id=template.id)
        assert fields(found) == fields(ExamTemplate.objects.get(id=template.id, is_active=True))
        assert not found._state.adding
    assert not ExamTemplate.objects.filter(id=data.inactive.id, is_active=True).exists()
    with pytest.raises(Exception, match="No such exam template"):
        startable_exam_template(template_id=data.inactive.id)


def test_the_fixed_question_ids_are_the_templates_list_in_its_order(data: Data) -> None:
    rows = list(data.fixed.fixed_questions.all())
    listed = [row.question_id for row in rows]
    assert listed not in (sorted(listed), sorted(listed, reverse=True))
    assert [row.id for row in rows] != sorted(row.id for row in rows)
    assert fixed_question_ids(template_id=data.fixed.id) == listed
    assert fixed_question_ids(template_id=data.blueprint.id) == []


def test_the_open_session_is_the_one_the_orm_finds_in_progress(data: Data) -> None:
    found = open_exam_session(user=data.user, template=data.blueprint)
    assert found is not None
    expected = ExamSession.objects.get(
        user=data.user, template=data.blueprint, status=SessionStatus.IN_PROGRESS
    )
    assert fields(found) == fields(expected)
    assert found.template is data.blueprint
    assert open_exam_session(user=data.user, template=data.fixed) is None
    assert open_exam_session(user=data.other, template=data.fixed) is None


def test_saved_answers_are_the_answers_the_orm_reads(data: Data) -> None:
    for session in (data.open, data.submitted, data.theirs):
        assert saved_answers(session_id=session.id) == orm_answers(session)
    assert saved_answers(session_id=MISSING) == []


def test_the_last_exam_summary_is_the_latest_submission_the_orm_finds(data: Data) -> None:
    latest = (
        ExamSession.objects.filter(user=data.user, submitted_at__isnull=False)
        .select_related("template")
        .latest("submitted_at", "id")
    )
    assert last_exam_summary(user_id=data.user.id) == {
        "submitted_at": latest.submitted_at,
        "exam": latest.template.name,
        "score_percent": latest.score_percent,
        "time_spent_min": ((latest.time_spent_sec or 0) + 30) // 60,
        "answered": latest.answered,
        "session_id": latest.id,
    }
    assert last_exam_summary(user_id=data.other.id) is None


# --- the row lock -----------------------------------------------------------------------------


def test_the_locked_session_is_the_session_the_orm_locks(data: Data) -> None:
    for session in (data.open, data.submitted, data.theirs):
        expected = fields(ExamSession.objects.select_for_update().get(id=session.id))
        system = statements.lock_exam_session(session_id=session.id, user_id=None)
        own = statements.lock_exam_session(session_id=session.id, user_id=session.user_id)
        assert system is not None
        assert own is not None
        assert fields(system) == expected
        assert fields(own) == expected
        assert not own._state.adding
    # Somebody else's session is not found, as ``get(id=..., user=...)`` would not find it.
    assert not ExamSession.objects.filter(id=data.theirs.id, user=data.user).exists()
    assert statements.lock_exam_session(session_id=data.theirs.id, user_id=data.user.id) is None
    assert statements.lock_exam_session(session_id=MISSING, user_id=None) is None
    assert statements.LOCK_SESSION.endswith("FOR UPDATE")
    assert statements.LOCK_USER_SESSION.endswith("FOR UPDATE")


def test_the_session_locked_to_save_comes_with_the_single_questions_the_orm_finds(
    data: Data,
) -> None:
    multi = make_question(
        category=Question.objects.get(pk=data.open.question_ids[0]).category, type="multi"
    )
    asked = [*data.open.question_ids, multi.pk, MISSING]
    for session in (data.open, data.submitted, data.theirs):
        for question_ids in (asked, asked[:1], []):
            found = statements.lock_exam_session_to_save(
                session_id=session.id, user_id=session.user_id, question_ids=question_ids
            )
            assert found is not None
            assert fields(found.session) == fields(
                ExamSession.objects.select_for_update().get(id=session.id, user=session.user)
            )
            assert not found.session._state.adding
            assert found.single_answer_ids == set(
                Question.objects.filter(pk__in=question_ids, type="single").values_list(
                    "pk", flat=True
                )
            )
    mine = statements.lock_exam_session_to_save(
        session_id=data.open.id, user_id=data.user.id, question_ids=asked
    )
    assert mine is not None
    assert multi.pk not in mine.single_answer_ids
    assert set(data.open.question_ids) <= mine.single_answer_ids  # the bank is single only
    assert (
        statements.lock_exam_session_to_save(
            session_id=data.theirs.id, user_id=data.user.id, question_ids=asked
        )
        is None
    )
    assert statements.LOCK_SESSION_TO_SAVE.endswith("FOR UPDATE OF s")


# --- the answer upsert -------------------------------------------------------------------------


def orm_upsert(
    session: ExamSession,
    saved_at: Any,
    given: tuple[str, ...],
    rows: list[tuple[int, list[int], bool, int]],
) -> None:
    """What the upsert stands for, with the ORM: a new answer takes every value, an existing
    one the given fields and the time."""
    for question_id, selected, flagged, spent in rows:
        values = {"selected_option_ids": selected, "flagged": flagged, "time_spent_sec": spent}
        answer, created = ExamAnswer.objects.get_or_create(
            session=session, question_id=question_id, defaults={**values, "saved_at": saved_at}
        )
        if not created:
            for name in given:
                setattr(answer, name, values[name])
            answer.saved_at = saved_at
            answer.save(update_fields=[*given, "saved_at"])


def answers_by_question(session: ExamSession) -> dict[int, tuple[Any, ...]]:
    return {
        a.question_id: (a.selected_option_ids, a.flagged, a.time_spent_sec, a.saved_at)
        for a in ExamAnswer.objects.filter(session=session)
    }


@pytest.mark.parametrize(
    "given",
    [
        ("selected_option_ids", "flagged", "time_spent_sec"),
        ("selected_option_ids",),
        ("flagged",),
        ("flagged", "time_spent_sec"),
        (),
    ],
)
def test_the_upsert_stores_what_the_orm_would_and_returns_the_stored_rows(
    data: Data, given: tuple[str, ...]
) -> None:
    # Two sessions of the same paper with the same answers saved: one written by the
    # statement, the other by the ORM.
    twin_user = UserFactory()
    twin = ExamSession.objects.create(
        user=twin_user,
        template=data.blueprint,
        question_ids=data.open.question_ids,
        option_order=data.open.option_order,
        seed=data.open.seed,
        started_at=data.open.started_at,
        expires_at=data.open.expires_at,
    )
    for answer in ExamAnswer.objects.filter(session=data.open):
        ExamAnswer.objects.create(
            session=twin,
            question_id=answer.question_id,
            selected_option_ids=answer.selected_option_ids,
            flagged=answer.flagged,
            time_spent_sec=answer.time_spent_sec,
            saved_at=answer.saved_at,
        )
    q = data.open.question_ids
    option = data.open.option_order[str(q[0])][-1]
    rows = [
        (q[0], [option], False, 44),  # saved before, flagged without a selection
        (q[2], [], True, 0),  # saved before, with a selection
        (q[4], [option], True, 9),  # new
    ]
    at = timezone.now() + timedelta(seconds=1)

    stored = statements.upsert_answers(session_id=data.open.id, saved_at=at, given=given, rows=rows)
    orm_upsert(twin, at, given, rows)

    assert answers_by_question(data.open) == answers_by_question(twin)
    by_question = {a.question_id: a for a in orm_answers(data.open)}
    assert stored == [by_question[row[0]] for row in rows]
    assert (
        statements.upsert_answers(session_id=data.open.id, saved_at=at, given=given, rows=[]) == []
    )


# --- scoring ------------------------------------------------------------------------------------


def test_marking_grades_as_the_orm_case_expression_does(data: Data) -> None:
    answers = list(ExamAnswer.objects.filter(session=data.open).order_by("id"))
    twin_answers = list(ExamAnswer.objects.filter(session=data.theirs).order_by("id"))
    assert len(answers) == 2
    correct = [answers[0].id]
    statements.mark_answers(session_id=data.open.id, correct_answer_ids=correct)
    ExamAnswer.objects.filter(session=data.theirs).update(
        is_correct=Case(When(id__in=[twin_answers[0].id], then=Value(True)), default=Value(False))
    )
    assert [a.is_correct for a in ExamAnswer.objects.filter(session=data.open).order_by("id")] == [
        True,
        False,
    ]
    assert list(
        ExamAnswer.objects.filter(session=data.theirs).values_list("is_correct", flat=True)
    ) == [True]
    statements.mark_answers(session_id=data.open.id, correct_answer_ids=[])
    assert set(
        ExamAnswer.objects.filter(session=data.open).values_list("is_correct", flat=True)
    ) == {False}
    # The other candidate's answers are left alone.
    assert list(
        ExamAnswer.objects.filter(session=data.theirs).values_list("is_correct", flat=True)
    ) == [True]


def test_marking_records_each_answers_question_version(data: Data) -> None:
    answers = list(ExamAnswer.objects.filter(session=data.open).order_by("id"))
    first, second = answers[0].question_id, answers[1].question_id
    statements.mark_answers(
        session_id=data.open.id, correct_answer_ids=[], question_versions={first: 7, second: 3}
    )
    stored = dict(
        ExamAnswer.objects.filter(session=data.open).values_list("question_id", "question_version")
    )
    assert stored == {first: 7, second: 3}
    # A question not listed keeps the version it had; other sessions are left alone.
    statements.mark_answers(
        session_id=data.open.id, correct_answer_ids=[], question_versions={first: 8}
    )
    stored = dict(
        ExamAnswer.objects.filter(session=data.open).values_list("question_id", "question_version")
    )
    assert stored == {first: 8, second: 3}
    assert set(
        ExamAnswer.objects.filter(session=data.theirs).values_list("question_version", flat=True)
    ) == {None}


def test_storing_the_result_writes_what_save_update_fields_writes(data: Data) -> None:
    now = timezone.now()
    outcome = {
        "status": SessionStatus.EXPIRED_SUBMITTED,
        "submitted_at": now,
        "auto_submitted": True,
        "score_percent": 67,
        "correct": 4,
        "answered": 5,
        "time_spent_sec": 1799,
        "result": {"score_percent": 67, "categories": [{"category_id": 1, "total": 6}]},
    }
    by_statement = ExamSession.objects.get(id=data.open.id)
    by_orm = ExamSession.objects.get(id=data.theirs.id)
    for session in (by_statement, by_orm):
        for name, value in outcome.items():
            setattr(session, name, value)
    statements.store_result(by_statement)
    by_orm.save(update_fields=list(statements.RESULT_FIELDS))

    assert set(statements.RESULT_FIELDS) == set(outcome)
    read = ExamSession.objects.values(*statements.RESULT_FIELDS)
    assert read.get(id=data.open.id) == read.get(id=data.theirs.id) == outcome
    # Nothing else of the session changed.
    assert fields(ExamSession.objects.get(id=data.open.id)) == {
        **fields(data.open),
        **outcome,
    }


def test_a_submission_stores_what_the_orm_aggregates_from_its_graded_rows(data: Data) -> None:
    session = ExamSession.objects.get(id=data.submitted.id)
    graded = ExamAnswer.objects.filter(session=session)
    totals = graded.aggregate(
        correct=Count("id", filter=Q(is_correct=True)),
        answered=Count("id", filter=~Q(selected_option_ids=[])),
        ungraded=Count("id", filter=Q(is_correct__isnull=True)),
    )
    assert totals == {"correct": 1, "answered": 2, "ungraded": 0}
    assert (session.correct, session.answered) == (totals["correct"], totals["answered"])
    assert session.result is not None
    by_category = dict(
        graded.filter(is_correct=True)
        .values_list("question__category_id")
        .annotate(n=Count("id"))
        .values_list("question__category_id", "n")
    )
    assert {c["category_id"]: c["correct"] for c in session.result["categories"]} == {
        category: by_category.get(category, 0)
        for category in Question.objects.filter(id__in=session.question_ids).values_list(
            "category_id", flat=True
        )
    }
    # Scoring again changes nothing (the lock sees the submitted state).
    again = submit_exam_session(session_id=session.id, user=data.user)
    assert fields(again) == fields(session)
