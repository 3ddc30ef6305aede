"""Each statement of apps/questions/statements.py beside the ORM expression it stands for, on the
same data: a model change that breaks one fails here, not in an exam."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F

from apps.core import sql
from apps.questions import statements
from apps.questions.grading import answer_keys
from apps.questions.models import AnswerOption, Question, QuestionStatus
from apps.questions.selectors import (
    display_questions,
    paper_key,
    published_option_ids,
    published_questions,
    questions_for_display,
)
from apps.questions.services import record_question_stats
from apps.questions.services.questions import question_stats_sql as reexported_stats_sql
from apps.taxonomy.models import Category
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

COMPILED = [
    statements.PUBLISHED_OPTIONS,
    statements.PAPER_KEY,
    statements.DISPLAY_QUESTIONS,
    statements.DISPLAY_OPTIONS,
    statements.DISPLAY_MEDIA,
]


@pytest.fixture
def bank() -> list[int]:
    """Question ids covering every case the reads tell apart, plus one id not in the bank: two
    categories in an order unlike their names, a draft, a retired question, one in an inactive
    category, one without options, one without a correct option, a multiple-response one with
    options saved out of order, and media."""
    late = CategoryFactory(order=2, name="Anatomy")
    early = CategoryFactory(order=1, name="Zoology")
    hidden = CategoryFactory(is_active=False)
    multi = make_question(category=late, type="multi")
    AnswerOption.objects.filter(question=multi).update(order=9 - F("order"))
    multi.media.create(url="https://img.example.com/a.png", kind="image", alt_text="A", order=2)
    multi.media.create(url="https://img.example.com/b.mp4", kind="video", caption="B", order=1)
    bare = make_question(category=early)
    bare.options.all().delete()
    keyless = make_question(category=early)
    keyless.options.update(is_correct=False)
    questions = [
        multi,
        make_question(category=early),
        make_question(category=late, status="draft"),
        make_question(category=early, status="retired"),
        make_question(category=hidden),
        bare,
        keyless,
    ]
    return [q.id for q in questions] + [10**9]


@pytest.mark.parametrize("compiled", COMPILED)
def test_each_compiled_query_gives_what_its_queryset_gives(
    compiled: sql.CompiledQuery, bank: list[int]
) -> None:
    for ids in (bank, bank[:1], [], [10**9]):
        assert compiled.fetch(ids=ids) == list(compiled.queryset(ids=ids))


@pytest.mark.parametrize("compiled", COMPILED)
def test_each_compiled_query_keeps_one_text_whatever_the_number_of_ids(
    compiled: sql.CompiledQuery,
) -> None:
    """The id list is one array parameter, so one compile serves every paper."""
    assert "ANY(%(ids)s)" in compiled.sql
    assert "IN (" not in compiled.sql


def test_published_options_are_the_published_questions_with_their_options_in_order(
    bank: list[int],
) -> None:
    expected = {
        question.id: [o.id for o in question.options.order_by("order", "id")]
        for question in published_questions().filter(id__in=bank)
    }
    assert published_option_ids(question_ids=bank) == expected
    assert published_option_ids(question_ids=[]) == {}


def test_the_published_rule_is_the_querysets(bank: list[int]) -> None:
    """The statement holds no rule of its own: changing what a question's category says
    changes what it returns, as it changes ``published()``."""
    hidden = Question.objects.filter(category__is_active=False).values_list("id", flat=True)
    Category.objects.update(is_active=True)
    found = published_option_ids(question_ids=bank)
    assert set(hidden) <= set(found)
    assert set(found) == set(published_questions().filter(id__in=bank).values_list("id", flat=True))


def test_the_paper_key_is_the_orm_key_categories_and_order(bank: list[int]) -> None:
    key = paper_key(question_ids=bank)
    in_bank = bank[:-1]
    assert key.correct_option_ids == answer_keys(question_ids=in_bank)
    assert key.category_of == dict(
        Question.objects.filter(id__in=bank).values_list("id", "category_id")
    )
    assert key.version_of == dict(Question.objects.filter(id__in=bank).values_list("id", "version"))
    expected = Category.objects.filter(questions__id__in=bank).distinct().order_by("order", "name")
    assert [(c.id, c.name, c.slug) for c in key.categories] == [
        (c.id, c.name, c.slug) for c in expected
    ]
    empty = paper_key(question_ids=[])
    assert (empty.category_of, empty.correct_option_ids, empty.categories) == ({}, {}, [])


def test_display_questions_are_what_the_model_instances_show(bank: list[int]) -> None:
    order = [*reversed(bank)]
    shown = display_questions(question_ids=order)
    expected = [
        {
            "id": q.id,
            "stem": q.stem,
            "type": q.type,
            "category": q.category.name,
            "options": [(o.id, o.text) for o in q.options.all()],
            "media": [
                {"url": m.url, "kind": m.kind, "alt_text": m.alt_text, "caption": m.caption}
                for m in q.media.all()
            ],
        }
        for q in questions_for_display(question_ids=order)
    ]
    assert [vars(q) for q in shown] == expected
    assert [m["kind"] for m in shown[-1].media] == ["video", "image"]
    assert display_questions(question_ids=[]) == []


# --- the statistics --------------------------------------------------------------------------


@pytest.fixture
def counted() -> list[Question]:
    questions = [make_question() for _ in range(4)]
    for n, question in enumerate(questions):
        Question.objects.filter(id=question.id).update(times_answered=10 + n, times_correct=n)
    return questions


def _stats(ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = Question.objects.filter(id__in=ids).values_list("id", "times_answered", "times_correct")
    return {i: (answered, correct) for i, answered, correct in rows}


def _outcome(write: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
    """The statistics after ``write``, which is then rolled back."""
    with transaction.atomic():
        write()
        found = _stats(ids)
        transaction.set_rollback(True)
    return found


def _orm_add(counts: dict[int, tuple[int, int]]) -> None:
    for question_id, (answered, correct) in counts.items():
        Question.objects.filter(id=question_id).update(
            times_answered=F("times_answered") + answered,
            times_correct=F("times_correct") + correct,
        )


def _cases(questions: list[Question]) -> Iterator[dict[int, tuple[int, int]]]:
    a, b, c, d = (q.id for q in questions)
    yield {a: (2, 1), b: (1, 1), c: (0, 0), 10**9: (3, 3)}
    yield {d: (1, 0)}
    yield {a: (5, 5), b: (5, 0), c: (1, 1), d: (7, 3)}


def test_recording_statistics_is_the_orm_f_updates(counted: list[Question]) -> None:
    ids = [q.id for q in counted]
    before = _stats(ids)
    for counts in _cases(counted):
        by_statement = _outcome(lambda counts=counts: record_question_stats(counts=counts), ids)
        assert by_statement == _outcome(lambda counts=counts: _orm_add(counts), ids)
        assert by_statement != before
    assert _stats(ids) == before


@pytest.mark.parametrize("ordered_locks", [True, False])
def test_the_statistics_fragment_embedded_in_another_statement_is_the_orm_f_updates(
    counted: list[Question], ordered_locks: bool
) -> None:
    """As the learning record embeds it: a relation of counts in the caller's own ``WITH``."""
    ids = [q.id for q in counted]
    statement = (
        "WITH answered_question (question_id, answered, correct) AS (SELECT * FROM unnest("  # noqa: S608 # the fragment names only _meta tables and this relation
        "%(question_ids)s::bigint[], %(answered)s::integer[], %(correct)s::integer[])), "
        f"{statements.question_stats_sql(counts='answered_question', ordered_locks=ordered_locks)}"
        " SELECT 1"
    )
    for counts in _cases(counted):
        if not ordered_locks:
            counts = dict(list(counts.items())[:1])  # the caller's promise: one question
        params = {
            "question_ids": list(counts),
            "answered": [a for a, _c in counts.values()],
            "correct": [c for _a, c in counts.values()],
        }
        by_statement = _outcome(lambda p=params: sql.execute(statement, p), ids)
        assert by_statement == _outcome(lambda counts=counts: _orm_add(counts), ids)


def test_impossible_counts_are_refused_before_any_write(counted: list[Question]) -> None:
    ids = [q.id for q in counted]
    before = _stats(ids)
    with pytest.raises(ValueError, match="Impossible counts"):
        record_question_stats(counts={ids[0]: (1, 1), ids[1]: (1, 2)})
    assert _stats(ids) == before


def test_the_old_import_location_of_the_statistics_fragment_still_works() -> None:
    assert reexported_stats_sql is statements.question_stats_sql


def test_imports_take_a_transaction_scoped_advisory_lock() -> None:
    held = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
        "AND granted"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(held)
        before = cursor.fetchone()[0]
        cursor.execute(statements.SERIALISE_IMPORTS)
        cursor.execute(held)
        assert cursor.fetchone()[0] == before + 1


@pytest.mark.django_db
def test_is_published_is_the_in_memory_twin_of_the_published_queryset() -> None:
    """``Question.is_published`` must agree with ``Question.objects.published()`` for every
    status and for active and inactive categories."""
    for active in (True, False):
        category = CategoryFactory(is_active=active)
        for status in QuestionStatus.values:
            make_question(category=category, status=status)
    published = set(Question.objects.published().values_list("id", flat=True))
    for question in Question.objects.select_related("category"):
        assert question.is_published == (question.id in published)
    assert published  # the rule admits something
