"""Fairer mocks: the paper standard (single best answer, the blueprint scaled, the paper's time),
unseen questions first, no repeats across a candidate's mocks while the bank allows, the least
recently seen back once a category runs out, and the bank's difficulty and subcategory spread."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.exams.answered import answered_questions
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import ExamPaper, PaperSpec, PaperSpecCategory, TemplateKind
from apps.exams.selectors import active_exam_templates
from apps.exams.selectors.drawing import DrawCandidate, DrawPlan, draw_candidates
from apps.exams.selectors.standards import PaperStandard, part_a_standard, scaled_blueprint
from apps.exams.services import start_exam_session, submit_exam_session
from apps.exams.services.drawing import difficulty_score, draw_category
from apps.questions.difficulty import difficulty_provider
from apps.questions.models import Question
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory
from tests.exams.factories import ExamTemplateFactory, blueprint_template, make_bank
from tests.questions.factories import make_question
from tests.taxonomy.factories import SubcategoryFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def set_paper_blueprint(paper: int, plan: dict[Category, int], **spec: Any) -> None:
    """Paper ``paper`` of the exam standard with this blueprint (and spec fields)."""
    row, _ = PaperSpec.objects.update_or_create(
        paper=paper,
        defaults={
            "name": f"Paper {paper}",
            "question_count": spec.get("question_count", sum(plan.values())),
            "duration_minutes": spec.get("duration_minutes", sum(plan.values())),
            "minimum_percent": 70,
        },
    )
    PaperSpecCategory.objects.filter(spec=row).delete()
    for category, count in plan.items():
        PaperSpecCategory.objects.create(spec=row, category=category, count=count)


def paper_template(paper: int = ExamPaper.PAPER_1, questions: int = 10, **kw: Any) -> Any:
    return ExamTemplateFactory(
        kind=TemplateKind.PAPER, paper=paper, total_questions=questions, **kw
    )


def sit(user: User, template_id: int) -> list[int]:
    """Starts and submits a session; its questions."""
    session = start_exam_session(user=user, template_id=template_id).session
    submit_exam_session(session_id=session.id, user=user)
    return list(session.question_ids)


def categories_of(question_ids: list[int]) -> Counter[int]:
    return Counter(
        Question.objects.filter(id__in=question_ids).values_list("category_id", flat=True)
    )


# --- The paper standard -----------------------------------------------------------------------


def test_the_blueprint_scales_by_largest_remainder_keeping_proportions():
    paper = PaperStandard(
        paper=1,
        name="Paper 1",
        question_count=180,
        duration_minutes=180,
        minimum_percent=70,
        blueprint={1: 75, 2: 45, 3: 30, 4: 7, 5: 8, 6: 7, 7: 5, 8: 3},
    )
    # Shares of 20: 8.33, 5, 3.33, 0.78, 0.89, 0.78, 0.56, 0.33.
    assert scaled_blueprint(paper, 20) == {1: 8, 2: 5, 3: 3, 4: 1, 5: 1, 6: 1, 7: 1}
    assert scaled_blueprint(paper, 180) == paper.blueprint
    for total in range(1, 200):
        scaled = scaled_blueprint(paper, total)
        assert sum(scaled.values()) == total
        for cid, n in scaled.items():
            assert abs(n - paper.blueprint[cid] * total / 180) < 1


def test_a_paper_mock_draws_single_best_answers_to_the_scaled_blueprint_in_the_papers_time(
    user, time_machine
):
    time_machine.move_to(START, tick=False)
    big, small = make_bank(categories=2, per_category=12)
    for category in (big, small):
        for _ in range(8):
            make_question(category=category, type="multi")
    set_paper_blueprint(1, {big: 90, small: 30}, question_count=120, duration_minutes=150)
    template = paper_template(questions=8, duration_minutes=99)
    session = start_exam_session(user=user, template_id=template.id).session
    types = set(Question.objects.filter(id__in=session.question_ids).values_list("type", flat=True))
    assert types == {"single"}
    assert categories_of(session.question_ids) == {big.id: 6, small.id: 2}
    # 150 minutes for 120 questions: 10 minutes for 8 (the template's own 99 is not used).
    assert session.expires_at - session.started_at == timedelta(minutes=10)
    (listed,) = [(t, a) for t, a in active_exam_templates() if t.id == template.id]
    assert listed[0].duration_minutes == 10
    assert listed[1].available


def test_a_paper_mock_counts_only_single_best_answers_as_available(user):
    (category,) = make_bank(categories=1, per_category=3)
    for _ in range(10):
        make_question(category=category, type="multi")
    set_paper_blueprint(1, {category: 5})
    template = paper_template(questions=5)
    (availability,) = [a for t, a in active_exam_templates() if t.id == template.id]
    assert not availability.available
    assert "3 of the 5 single best answer questions" in (availability.unavailable_reason or "")
    with pytest.raises(TemplateUnfillable):
        start_exam_session(user=user, template_id=template.id)


def test_a_paper_without_a_blueprint_cannot_start(user):
    set_paper_blueprint(2, {}, question_count=120, duration_minutes=120)
    template = paper_template(paper=ExamPaper.PAPER_2, questions=5)
    with pytest.raises(TemplateUnfillable, match="no blueprint"):
        start_exam_session(user=user, template_id=template.id)


# --- Unseen first, no repeats, least recently seen back ---------------------------------------


def test_two_mocks_share_no_question_while_the_bank_allows_then_the_least_recent_return(
    user, time_machine
):
    first, second = make_bank(categories=2, per_category=10)
    template = blueprint_template({first: 5, second: 5})
    time_machine.move_to(START, tick=False)
    one = sit(user, template.id)
    time_machine.move_to(START + timedelta(days=1), tick=False)
    two = sit(user, template.id)
    assert not set(one) & set(two)
    assert len(set(one) | set(two)) == 20  # the whole bank, once
    # The bank is used up: the third mock brings back the least recently seen, the first's.
    time_machine.move_to(START + timedelta(days=2), tick=False)
    three = sit(user, template.id)
    assert set(three) == set(one)
    # And the fourth the second's.
    time_machine.move_to(START + timedelta(days=3), tick=False)
    assert set(sit(user, template.id)) == set(two)


def test_a_category_running_out_takes_all_it_has_fresh_and_the_oldest_of_the_rest(
    user, time_machine
):
    (category,) = make_bank(categories=1, per_category=7)
    template = blueprint_template({category: 3})
    seen_at = {}
    for day in range(2):
        time_machine.move_to(START + timedelta(days=day), tick=False)
        for qid in sit(user, template.id):
            seen_at[qid] = day
    time_machine.move_to(START + timedelta(days=5), tick=False)
    third = sit(user, template.id)
    fresh = set(category.questions.values_list("id", flat=True)) - set(seen_at)
    assert len(fresh) == 1
    assert fresh < set(third)
    # The other two come from the least recently seen mock (day 0), none from day 1's.
    assert sorted(seen_at[q] for q in set(third) - fresh) == [0, 0]


def test_another_candidates_mocks_do_not_count(user, other_user):
    (category,) = make_bank(categories=1, per_category=6)
    template = blueprint_template({category: 6})
    sit(other_user, template.id)
    assert len(set(sit(user, template.id))) == 6


def test_questions_never_answered_come_before_those_met_in_practice(user):
    (category,) = make_bank(categories=1, per_category=10)
    ids = sorted(category.questions.values_list("id", flat=True))
    practised = set(ids[:6])

    def answered(*, user_id: int, category_ids: Any) -> dict[int, datetime]:
        return dict.fromkeys(practised, START) if user_id == user.id else {}

    template = blueprint_template({category: 4})
    with answered_questions.override(answered):
        drawn = start_exam_session(user=user, template_id=template.id).session.question_ids
    assert set(drawn) == set(ids[6:])


def test_the_learning_record_tells_the_draw_what_a_candidate_answered(user, time_machine):
    """Through the real port: an exam's answers reach the learning record and are seen."""
    from apps.exams.answered import last_answered
    from apps.exams.services import AnswerInput, save_exam_answers

    time_machine.move_to(START, tick=False)
    (category,) = make_bank(categories=1, per_category=4)
    template = blueprint_template({category: 2})
    session = start_exam_session(user=user, template_id=template.id).session
    first = session.question_ids[0]
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(first, [session.option_order[str(first)][0]])],
    )
    submit_exam_session(session_id=session.id, user=user)
    assert last_answered(user_id=user.id, category_ids=[category.id]) == {first: START}
    assert last_answered(user_id=user.id, category_ids=[]) == {}


# --- Spread ------------------------------------------------------------------------------------


def candidate(qid: int, *, sub: int | None = None, difficulty: int = 3, answered: int = 0,
              correct: int = 0) -> DrawCandidate:  # fmt: skip
    return DrawCandidate(qid, 1, sub, difficulty, answered, correct)


def draw(pool: list[DrawCandidate], count: int, seed: int, **kw: Any) -> list[int]:
    return draw_category(
        pool,
        count,
        rng=random.Random(seed),
        shown=kw.get("shown", {}),
        answered=kw.get("answered", {}),
        calibrated=kw.get("calibrated", {}),
    )


@pytest.mark.parametrize("seed", range(25))
def test_each_difficulty_tercile_gets_its_share(seed):
    pool = [candidate(i, difficulty=1 + 2 * (i % 3)) for i in range(1, 31)]
    tercile = {c.id: c.authored_difficulty for c in pool}
    picked = draw(pool, 9, seed)
    assert len(set(picked)) == 9
    assert Counter(tercile[q] for q in picked) == {1: 3, 3: 3, 5: 3}


@pytest.mark.parametrize("seed", range(25))
def test_calibrated_difficulty_decides_the_spread_where_known(seed):
    # The editor rated all of them 3; the calibration says a third are hard, a third easy.
    pool = [candidate(i) for i in range(1, 31)]
    calibrated = {c.id: float(c.id % 3 - 1) for c in pool}
    picked = draw(pool, 6, seed, calibrated=calibrated)
    assert Counter(calibrated[q] for q in picked) == {-1.0: 2, 0.0: 2, 1.0: 2}


def test_facility_stands_in_for_difficulty_once_a_question_has_enough_answers():
    calibrated = {7: 1.5}
    assert difficulty_score(candidate(7, answered=100, correct=90), calibrated) == 1.5
    easy = difficulty_score(candidate(1, answered=100, correct=90, difficulty=5), {})
    hard = difficulty_score(candidate(2, answered=100, correct=10, difficulty=1), {})
    assert easy < 0 < hard
    # Too few answers to judge: the editor's rating.
    assert difficulty_score(candidate(3, answered=5, correct=5, difficulty=5), {}) == 2.0


@pytest.mark.parametrize("seed", range(25))
def test_each_subcategory_gets_its_share_of_the_bank(seed):
    sizes = {10: 12, 20: 6, 30: 6, None: 3}
    pool, qid = [], 0
    for sub, size in sizes.items():
        for _ in range(size):
            qid += 1
            pool.append(candidate(qid, sub=sub, difficulty=1 + qid % 5))
    pool.sort(key=lambda c: c.id)
    sub_of = {c.id: c.subcategory_id for c in pool}
    picked = draw(pool, 9, seed)
    # Shares of 9 from 27: 4, 2, 2 and 1.
    assert Counter(sub_of[q] for q in picked) == {10: 4, 20: 2, 30: 2, None: 1}


def test_the_spread_holds_within_what_is_still_fresh():
    pool = [candidate(i, difficulty=1 + 2 * (i % 3)) for i in range(1, 61)]
    shown = dict.fromkeys(range(1, 31), START)  # half the bank seen in an earlier mock
    tercile = {c.id: c.authored_difficulty for c in pool}
    picked = draw(pool, 9, 3, shown=shown)
    assert not set(picked) & set(shown)
    assert Counter(tercile[q] for q in picked) == {1: 3, 3: 3, 5: 3}


def test_a_paper_mock_spreads_subcategories_through_the_whole_flow(user):
    (category,) = make_bank(categories=1, per_category=0)
    subs = [SubcategoryFactory(category=category) for _ in range(3)]
    for sub, size in zip(subs, (10, 5, 5), strict=True):
        for i in range(size):
            make_question(category=category, subcategory=sub, difficulty=1 + i % 5)
    set_paper_blueprint(1, {category: 8})
    template = paper_template(questions=8)
    drawn = start_exam_session(user=user, template_id=template.id).session.question_ids
    per_sub = Counter(
        Question.objects.filter(id__in=drawn).values_list("subcategory_id", flat=True)
    )
    assert per_sub == {subs[0].id: 4, subs[1].id: 2, subs[2].id: 2}


def test_calibration_reaches_the_draw_through_the_port(user):
    (category,) = make_bank(categories=1, per_category=12)
    ids = sorted(category.questions.values_list("id", flat=True))
    level = {qid: float(i % 3) for i, qid in enumerate(ids)}

    def difficulties(question_ids: Any) -> dict[int, float]:
        return {q: level[q] for q in question_ids if q in level}

    template = blueprint_template({category: 6})
    with difficulty_provider.override(difficulties):
        drawn = start_exam_session(user=user, template_id=template.id).session.question_ids
    assert Counter(level[q] for q in drawn) == {0.0: 2, 1.0: 2, 2.0: 2}


# --- Determinism and cost ----------------------------------------------------------------------


def test_the_same_seed_history_and_bank_give_the_same_paper():
    pool = [candidate(i, sub=i % 4, difficulty=1 + i % 5) for i in range(1, 101)]
    shown = {i: START + timedelta(days=i % 3) for i in range(1, 60)}
    first = draw(pool, 30, 11, shown=shown)
    assert first == draw(pool, 30, 11, shown=shown)
    assert set(first) != set(draw(pool, 30, 12, shown=shown))


def _start_statements(per_category: int, sessions_before: int) -> int:
    user = UserFactory()
    first, second = make_bank(categories=2, per_category=per_category)
    set_paper_blueprint(1, {first: 60, second: 60})
    template = paper_template(questions=10)
    for _ in range(sessions_before):
        sit(user, template.id)
    with CaptureQueriesContext(connection) as queries:
        start_exam_session(user=user, template_id=template.id)
    return len(queries.captured_queries)


def test_starting_a_paper_mock_costs_the_same_whatever_the_bank_and_history():
    small = _start_statements(per_category=10, sessions_before=0)
    large = _start_statements(per_category=120, sessions_before=3)
    assert small == large
    # Template, open session, the standard (4), candidates, difficulty (port), history,
    # answered, options; savepoint, session, sitting-less start, audit, release.
    assert small <= 16


def test_draw_candidates_read_once_in_id_order():
    (category,) = make_bank(categories=1, per_category=5)
    make_question(category=category, type="multi")
    with CaptureQueriesContext(connection) as queries:
        rows = draw_candidates(category_ids=[category.id], single_best_answer_only=True)
    assert len(queries.captured_queries) == 1
    assert [r.id for r in rows] == sorted(
        category.questions.filter(type="single").values_list("id", flat=True)
    )


def test_the_standard_is_read_as_staff_set_it():
    (category,) = make_bank(categories=1, per_category=0)
    set_paper_blueprint(1, {category: 4}, question_count=4, duration_minutes=8)
    paper = part_a_standard().paper(1)
    assert paper.blueprint == {category.id: 4}
    plan = DrawPlan(counts={category.id: 4}, duration_minutes=8, single_best_answer_only=True)
    assert plan.total == 4


# --- The rules hold for any pool ----------------------------------------------------------------


@given(
    subs=st.lists(st.sampled_from([None, 1, 2, 3]), min_size=1, max_size=60),
    seen_days=st.lists(st.sampled_from([None, None, 0, 1, 2]), min_size=60, max_size=60),
    practised=st.sets(st.integers(1, 60), max_size=20),
    fraction=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**32),
)
@hypothesis_settings(max_examples=200, deadline=None)
def test_any_draw_takes_the_freshest_and_spreads_what_it_chooses(
    subs: list[int | None],
    seen_days: list[int | None],
    practised: set[int],
    fraction: float,
    seed: int,
) -> None:
    pool = [candidate(i, sub=sub, difficulty=1 + i % 5) for i, sub in enumerate(subs, start=1)]
    shown = {
        c.id: START + timedelta(days=day)
        for c, day in zip(pool, seen_days, strict=False)
        if day is not None
    }
    answered = dict.fromkeys((q for q in practised if q <= len(pool)), START)
    count = max(1, int(len(pool) * fraction))
    picked = draw(pool, count, seed, shown=shown, answered=answered)
    assert len(picked) == len(set(picked)) == count
    assert set(picked) <= {c.id for c in pool}

    def freshness(qid: int) -> tuple[int, datetime]:
        if qid in shown:
            return (2, shown[qid])
        return (1 if qid in answered else 0, START)

    # Nothing left out is fresher than anything taken.
    worst = max(freshness(q) for q in picked)
    assert all(freshness(c.id) >= worst for c in pool if c.id not in set(picked))
    # Within the last group reached, each subcategory gets its share rounded down or up.
    group = [c for c in pool if freshness(c.id) == worst]
    chosen = [c for c in group if c.id in set(picked)]
    for sub in {c.subcategory_id for c in group}:
        share = sum(1 for c in group if c.subcategory_id == sub) * len(chosen) / len(group)
        got = sum(1 for c in chosen if c.subcategory_id == sub)
        assert math.floor(share) <= got <= math.ceil(share)
