from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import NotFound, ValidationFailed
from apps.exams.exceptions import ExamExpired, ExamSubmitted, TemplateUnfillable
from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.services import (
    AnswerInput,
    draw_exam_paper,
    percent,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
    submit_expired_sessions,
)
from apps.questions.models import Question, QuestionStatus
from tests.exams.factories import (
    ExamTemplateFactory,
    blueprint_template,
    correct_answers,
    fixed_template,
    make_bank,
    wrong_option,
)
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_start_draws_the_blueprint_and_stores_the_order(user, template):
    started = start_exam_session(user=user, template_id=template.id)
    session = started.session
    assert started.created
    assert len(session.question_ids) == 6 == len(set(session.question_ids))
    per_category: dict[int, int] = {}
    for q in Question.objects.filter(id__in=session.question_ids):
        per_category[q.category_id] = per_category.get(q.category_id, 0) + 1
    assert sorted(per_category.values()) == [3, 3]
    assert set(session.option_order) == {str(q) for q in session.question_ids}
    for qid, options in session.option_order.items():
        assert sorted(options) == sorted(
            Question.objects.get(id=int(qid)).options.values_list("id", flat=True)
        )
    assert session.expires_at - session.started_at == timedelta(minutes=30)
    assert session.status == SessionStatus.IN_PROGRESS
    event = AuditEvent.objects.get(action="exam.start")
    assert event.kind == "session"
    assert event.target_id == str(session.id)
    assert event.subject_user_id == user.id


def test_the_draw_is_reproducible_from_the_stored_seed(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    assert draw_exam_paper(template=template, seed=session.seed) == (
        session.question_ids,
        session.option_order,
    )


def test_sessions_differ_in_order(user, other_user):
    (category,) = make_bank(categories=1, per_category=30)
    template = blueprint_template({category: 30})
    first = start_exam_session(user=user, template_id=template.id).session
    second = start_exam_session(user=other_user, template_id=template.id).session
    assert sorted(first.question_ids) == sorted(second.question_ids)
    assert first.question_ids != second.question_ids


def test_starting_again_returns_the_open_session(user, template):
    first = start_exam_session(user=user, template_id=template.id)
    again = start_exam_session(user=user, template_id=template.id)
    assert not again.created
    assert again.session.id == first.session.id
    assert ExamSession.objects.count() == 1


def test_the_database_allows_one_open_session_per_template(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamSession.objects.create(
            user=user,
            template=template,
            seed=1,
            started_at=session.started_at,
            expires_at=session.expires_at,
        )


def test_starting_after_an_expired_session_scores_it_and_starts_anew(user, template):
    old = start_exam_session(user=user, template_id=template.id).session
    with time_machine.travel(old.expires_at + timedelta(minutes=1)):
        new = start_exam_session(user=user, template_id=template.id)
    assert new.created
    old.refresh_from_db()
    assert old.status == SessionStatus.EXPIRED_SUBMITTED
    assert old.auto_submitted


def test_unknown_and_inactive_templates_are_not_found(user, template):
    with pytest.raises(NotFound):
        start_exam_session(user=user, template_id=template.id + 1000)
    template.is_active = False
    template.save()
    with pytest.raises(NotFound):
        start_exam_session(user=user, template_id=template.id)


def test_a_template_the_bank_cannot_fill_refuses_to_start(user):
    (category,) = make_bank(categories=1, per_category=2)
    template = blueprint_template({category: 3})
    with pytest.raises(TemplateUnfillable) as raised:
        start_exam_session(user=user, template_id=template.id)
    assert "2 of the 3" in raised.value.message
    assert not ExamSession.objects.exists()


def test_unpublished_questions_are_never_drawn(user):
    (category,) = make_bank(categories=1, per_category=3)
    make_question(category=category, status=QuestionStatus.DRAFT)
    template = blueprint_template({category: 3})
    session = start_exam_session(user=user, template_id=template.id).session
    assert set(session.question_ids) == set(
        Question.objects.filter(status=QuestionStatus.PUBLISHED).values_list("id", flat=True)
    )


def test_fixed_template_keeps_its_order_when_not_shuffled(user):
    category = CategoryFactory()
    questions = [make_question(category=category) for _ in range(4)]
    template = fixed_template(list(reversed(questions)), shuffle_questions=False)
    session = start_exam_session(user=user, template_id=template.id).session
    assert session.question_ids == [q.id for q in reversed(questions)]


def test_fixed_template_with_an_unpublished_question_is_unfillable(user):
    category = CategoryFactory()
    questions = [make_question(category=category) for _ in range(3)]
    questions[0].status = QuestionStatus.RETIRED
    questions[0].save()
    template = fixed_template(questions)
    with pytest.raises(TemplateUnfillable):
        start_exam_session(user=user, template_id=template.id)


def test_misdeclared_blueprint_is_unfillable(user):
    (category,) = make_bank(categories=1, per_category=5)
    template = blueprint_template({category: 3}, total_questions=4)
    with pytest.raises(TemplateUnfillable) as raised:
        start_exam_session(user=user, template_id=template.id)
    assert "adds up to 3" in raised.value.message


def test_empty_blueprint_is_unfillable(user):
    template = ExamTemplateFactory(total_questions=3)
    with pytest.raises(TemplateUnfillable):
        start_exam_session(user=user, template_id=template.id)


# --- Saving -------------------------------------------------------------------------------------


def test_answers_are_upserted_and_changeable(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    qid = session.question_ids[0]
    first, second = session.option_order[str(qid)][:2]
    save_exam_answers(
        user=user, session_id=session.id, answers=[AnswerInput(qid, [first], 10, True)]
    )
    save_exam_answers(
        user=user, session_id=session.id, answers=[AnswerInput(qid, [second, second])]
    )
    answer = ExamAnswer.objects.get(session=session, question_id=qid)
    assert answer.selected_option_ids == [second]
    assert answer.flagged is True  # omitted: kept
    assert answer.time_spent_sec == 10  # omitted: kept
    assert answer.is_correct is None
    save_exam_answers(user=user, session_id=session.id, answers=[AnswerInput(qid, flagged=False)])
    answer.refresh_from_db()
    assert (answer.selected_option_ids, answer.flagged) == ([second], False)


def test_flag_without_selection_is_not_an_answer(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(session.question_ids[0], flagged=True)],
    )
    result = submit_exam_session(session_id=session.id, user=user)
    assert result.answered == 0


def test_time_spent_is_capped_at_the_exam_duration(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    qid = session.question_ids[0]
    save_exam_answers(
        user=user, session_id=session.id, answers=[AnswerInput(qid, [], time_spent_sec=10**9)]
    )
    assert ExamAnswer.objects.get(question_id=qid).time_spent_sec == 30 * 60


def test_a_batch_with_one_bad_answer_writes_nothing(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    good = session.question_ids[0]
    bad_option = session.option_order[str(session.question_ids[1])][0]
    with pytest.raises(ValidationFailed) as raised:
        save_exam_answers(
            user=user,
            session_id=session.id,
            answers=[
                AnswerInput(good, [session.option_order[str(good)][0]]),
                AnswerInput(session.question_ids[2], [bad_option]),
            ],
        )
    assert set(raised.value.fields or {}) == {"attempts.1.selected_option_ids"}
    assert not ExamAnswer.objects.exists()


def test_questions_outside_the_session_and_duplicates_are_refused(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    stranger = make_question()
    qid = session.question_ids[0]
    with pytest.raises(ValidationFailed) as raised:
        save_exam_answers(
            user=user,
            session_id=session.id,
            answers=[AnswerInput(stranger.id, []), AnswerInput(qid, []), AnswerInput(qid, [])],
        )
    assert set(raised.value.fields or {}) == {"attempts.0.question_id", "attempts.2.question_id"}
    with pytest.raises(ValidationFailed) as raised:
        save_exam_answers(
            user=user, session_id=session.id, answers=[AnswerInput(stranger.id)], field_prefix=""
        )
    assert set(raised.value.fields or {}) == {"question_id"}
    assert not ExamAnswer.objects.exists()


def test_another_users_session_is_not_found(user, other_user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    with pytest.raises(NotFound):
        save_exam_answers(
            user=other_user, session_id=session.id, answers=[AnswerInput(session.question_ids[0])]
        )
    with pytest.raises(NotFound):
        submit_exam_session(session_id=session.id, user=other_user)
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_answers_within_the_grace_count_and_after_it_are_refused(user, template, settings):
    settings.EXAM_GRACE_SECONDS = 5
    session = start_exam_session(user=user, template_id=template.id).session
    qid = session.question_ids[0]
    key = correct_answers(session)[qid]
    with time_machine.travel(session.expires_at + timedelta(seconds=4)):
        save_exam_answers(user=user, session_id=session.id, answers=[AnswerInput(qid, key)])
    with (
        time_machine.travel(session.expires_at + timedelta(seconds=6)),
        pytest.raises(ExamExpired),
    ):
        save_exam_answers(
            user=user,
            session_id=session.id,
            answers=[AnswerInput(qid, [wrong_option(session, qid)])],
        )
    assert ExamAnswer.objects.get(question_id=qid).selected_option_ids == key


# --- Submitting ---------------------------------------------------------------------------------


def test_submit_scores_once_with_a_category_breakdown(user, template, learning_record):
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    q = session.question_ids
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[
            AnswerInput(q[0], keys[q[0]], time_spent_sec=20),
            AnswerInput(q[1], keys[q[1]]),
            AnswerInput(q[2], [wrong_option(session, q[2])]),
            AnswerInput(q[3], flagged=True),
        ],
    )
    with time_machine.travel(session.started_at + timedelta(minutes=12), tick=False):
        result = submit_exam_session(session_id=session.id, user=user)
    assert result.status == SessionStatus.SUBMITTED
    assert not result.auto_submitted
    assert (result.correct, result.answered, result.score_percent) == (2, 3, 33)
    assert result.time_spent_sec == 12 * 60
    assert result.result is not None
    assert result.result["total"] == 6
    by_category = {c["category_id"]: c for c in result.result["categories"]}
    category_of = dict(Question.objects.filter(id__in=q).values_list("id", "category_id"))
    for category_id, row in by_category.items():
        in_cat = [x for x in q if category_of[x] == category_id]
        assert row["total"] == len(in_cat) == 3
        assert row["correct"] == sum(1 for x in in_cat if x in (q[0], q[1]))
        assert row["answered"] == sum(1 for x in in_cat if x in (q[0], q[1], q[2]))
    assert sum(r["correct"] for r in by_category.values()) == 2
    marks = dict(
        ExamAnswer.objects.filter(session=session).values_list("question_id", "is_correct")
    )
    assert marks == {q[0]: True, q[1]: True, q[2]: False, q[3]: False}

    # The learning record gets the three answered questions, once.
    calls = learning_record.for_session(session.id)
    assert len(calls) == 1
    published = {a.question_id: a for a in calls[0]}
    assert set(published) == {q[0], q[1], q[2]}
    assert published[q[0]].is_correct
    assert not published[q[2]].is_correct
    assert published[q[0]].time_spent_sec == 20
    assert published[q[0]].category_id == category_of[q[0]]
    assert published[q[0]].user_id == user.id

    again = submit_exam_session(session_id=session.id, user=user)
    assert again.result == result.result
    assert again.submitted_at == result.submitted_at
    assert len(learning_record.for_session(session.id)) == 1
    assert AuditEvent.objects.filter(action="exam.submit", target_id=str(session.id)).count() == 1


def test_a_question_deleted_during_the_sitting_is_dropped_from_the_paper(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    keys = correct_answers(session)
    q = session.question_ids
    save_exam_answers(user=user, session_id=session.id, answers=[AnswerInput(q[0], keys[q[0]])])
    Question.objects.filter(id=q[5]).delete()  # unanswered, so the bank may hard-delete it
    result = submit_exam_session(session_id=session.id, user=user)
    assert result.result is not None
    assert (result.result["total"], result.correct, result.score_percent) == (5, 1, 20)
    assert sum(c["total"] for c in result.result["categories"]) == 5


def test_answers_after_submission_are_refused(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    submit_exam_session(session_id=session.id, user=user)
    with pytest.raises(ExamSubmitted):
        save_exam_answers(
            user=user, session_id=session.id, answers=[AnswerInput(session.question_ids[0], [])]
        )


def test_an_empty_submission_scores_zero(user, template, learning_record):
    session = start_exam_session(user=user, template_id=template.id).session
    result = submit_exam_session(session_id=session.id, user=user)
    assert (result.score_percent, result.correct, result.answered) == (0, 0, 0)
    assert learning_record.for_session(session.id) == []


def test_multi_answer_needs_the_exact_set(user):
    (category,) = make_bank(categories=1, per_category=2, type="multi")
    template = blueprint_template({category: 2})
    session = start_exam_session(user=user, template_id=template.id).session
    first, second = session.question_ids
    keys = correct_answers(session)
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(first, keys[first]), AnswerInput(second, keys[second][:1])],
    )
    result = submit_exam_session(session_id=session.id, user=user)
    assert (result.correct, result.answered, result.score_percent) == (1, 2, 50)


def test_expired_sessions_are_scored_by_the_sweep_with_what_was_saved(
    user, other_user, template, learning_record
):
    mine = start_exam_session(user=user, template_id=template.id).session
    theirs = start_exam_session(user=other_user, template_id=template.id).session
    qid = mine.question_ids[0]
    save_exam_answers(
        user=user, session_id=mine.id, answers=[AnswerInput(qid, correct_answers(mine)[qid])]
    )
    with time_machine.travel(mine.expires_at + timedelta(seconds=3)):
        assert submit_expired_sessions() == 0  # still within the grace
    with time_machine.travel(mine.expires_at + timedelta(minutes=1), tick=False):
        assert submit_expired_sessions() == 2
        assert submit_expired_sessions() == 0
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == theirs.status == SessionStatus.EXPIRED_SUBMITTED
    assert mine.auto_submitted
    assert theirs.auto_submitted
    assert (mine.correct, mine.answered, mine.score_percent) == (1, 1, 17)
    assert mine.time_spent_sec == 30 * 60
    assert len(learning_record.for_session(mine.id)) == 1
    event = AuditEvent.objects.get(action="exam.auto_submit", target_id=str(mine.id))
    assert event.actor is None


def test_the_sweep_for_one_user_leaves_others_open(user, other_user, template):
    mine = start_exam_session(user=user, template_id=template.id).session
    theirs = start_exam_session(user=other_user, template_id=template.id).session
    with time_machine.travel(mine.expires_at + timedelta(minutes=1)):
        assert submit_expired_sessions(user=user) == 1
    theirs.refresh_from_db()
    assert theirs.status == SessionStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 0, 0), (0, 6, 0), (1, 6, 17), (1, 2, 50), (1, 3, 33), (2, 3, 67), (6, 6, 100)],
)
def test_percent(part, whole, expected):
    assert percent(part, whole) == expected


def test_the_session_clock_is_the_servers(user, template):
    before = timezone.now()
    session = start_exam_session(user=user, template_id=template.id).session
    assert before <= session.started_at <= timezone.now()
