"""The selection rule (``apps.questions.grading.validate_selection``) and the proof that
practice and exams keep it alike: for any selection sent, a practice answer and an exam save
(single and batch) are both accepted, storing the same selection, or both refused with the
same error. The one difference is deliberate: an exam saves ``[]`` as "no answer", practice
has nothing to record without a selection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.core.exceptions import ValidationFailed
from apps.exams.models import ExamSession
from apps.exams.services import AnswerInput, save_exam_answers, start_exam_session
from apps.practice.models import PracticeSession
from apps.practice.services import create_practice_session, record_practice_answer
from apps.questions.grading import MAX_SELECTED_OPTIONS, selection_error, validate_selection
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.exams.factories import fixed_template
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

SINGLE_ONE = "A single best answer question takes one option."

# --- The rule alone ---------------------------------------------------------------------------

OPTIONS = frozenset({11, 12, 13, 14, 15})


@pytest.mark.parametrize(
    ("question_type", "selected", "error"),
    [
        ("single", [12], None),
        ("single", [12, 12, 12], None),  # a repeated option is one option
        ("single", [12, 13], SINGLE_ONE),
        ("single", sorted(OPTIONS), SINGLE_ONE),
        ("multi", sorted(OPTIONS), None),
        ("multi", [15, 11], None),
        ("multi", [], "Select at least one option."),
        ("single", [12, 99, 98, 99], "Not an option of this question: 98, 99."),
        ("multi", [11] * (MAX_SELECTED_OPTIONS + 1), "Too many options selected."),
        ("single", [11] * MAX_SELECTED_OPTIONS, None),
    ],
)
def test_the_rule(question_type: str, selected: list[int], error: str | None) -> None:
    assert (
        selection_error(question_type=question_type, option_ids=OPTIONS, selected=selected) == error
    )
    if error is None:
        stored = validate_selection(
            question_type=question_type, option_ids=OPTIONS, selected=selected
        )
        assert stored == sorted(set(selected))
    else:
        with pytest.raises(ValidationFailed) as refused:
            validate_selection(question_type=question_type, option_ids=OPTIONS, selected=selected)
        assert refused.value.fields == {"selected_option_ids": [error]}


def test_an_empty_selection_is_allowed_only_where_it_means_no_answer() -> None:
    for question_type in ("single", "multi"):
        assert (
            validate_selection(
                question_type=question_type, option_ids=OPTIONS, selected=[], allow_empty=True
            )
            == []
        )


# --- Practice and exams agree -----------------------------------------------------------------


@dataclass
class Setting:
    """One single and one multi question; a practice session of them (one candidate) and an
    open exam of them (another candidate: a candidate's own open exam holds its questions out
    of practice)."""

    questions: dict[str, Question]
    options: dict[str, list[int]]
    practiser: User
    practice: PracticeSession
    sitter: User
    exam: ExamSession


@pytest.fixture
def setting(db: Any) -> Setting:
    category = CategoryFactory()
    questions = {kind: make_question(category, kind) for kind in ("single", "multi")}
    practiser, sitter = UserFactory(), UserFactory()
    practice = create_practice_session(user=practiser, question_count=2)
    template = fixed_template(list(questions.values()))
    exam = start_exam_session(user=sitter, template_id=template.id).session
    options = {
        kind: sorted(q.options.values_list("id", flat=True)) for kind, q in questions.items()
    }
    return Setting(questions, options, practiser, practice, sitter, exam)


def outcome(call: Any) -> tuple[str, Any]:
    """``("accepted", selection stored)`` or ``("refused", fields)``; nothing it did is kept."""
    try:
        with transaction.atomic():
            stored = call()
            transaction.set_rollback(True)
        return ("accepted", stored)
    except ValidationFailed as refused:
        return ("refused", refused.fields)


def _practice(setting: Setting, question: Question, selected: list[int]) -> tuple[str, Any]:
    def answer() -> list[int]:
        record_practice_answer(
            user=setting.practiser,
            session_id=setting.practice.pk,
            question_id=question.pk,
            selected_option_ids=selected,
        )
        return list(setting.practice.attempts.get(question=question).selected_option_ids)

    return outcome(answer)


def _exam(
    setting: Setting, question: Question, selected: list[int], *, batch: bool
) -> tuple[str, Any]:
    def save() -> list[int]:
        (saved,) = save_exam_answers(
            user=setting.sitter,
            session_id=setting.exam.pk,
            answers=[AnswerInput(question.pk, selected)],
            field_prefix="attempts" if batch else "",
        )
        return saved.selected_option_ids

    found = outcome(save)
    if batch and found[0] == "refused":
        # Keyed by the answer's place in the batch; the error is the same.
        return ("refused", {k.removeprefix("attempts.0."): v for k, v in found[1].items()})
    return found


selections = st.tuples(
    st.sampled_from(["single", "multi"]),
    # Indexes into the question's options; 5 and 6 stand for another question's options, 7 for
    # an id that is nobody's option.
    st.lists(st.integers(min_value=0, max_value=7), max_size=MAX_SELECTED_OPTIONS + 3),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chosen=selections)
def test_practice_and_exams_accept_and_refuse_the_same_selections(
    setting: Setting, chosen: tuple[str, list[int]]
) -> None:
    kind, picks = chosen
    other = "multi" if kind == "single" else "single"
    pool = [*setting.options[kind], *setting.options[other][:2], 10**9]
    selected = [pool[i] for i in picks]
    question = setting.questions[kind]

    practice = _practice(setting, question, selected)
    single_save = _exam(setting, question, selected, batch=False)
    batch_save = _exam(setting, question, selected, batch=True)

    assert single_save == batch_save
    if selected:
        assert practice == single_save, (kind, selected)
    else:
        assert practice == ("refused", {"selected_option_ids": ["Select at least one option."]})
        assert single_save == ("accepted", [])
    expected = selection_error(
        question_type=kind, option_ids=setting.options[kind], selected=selected, allow_empty=True
    )
    assert (single_save[0] == "accepted") == (expected is None)


def test_every_option_on_a_single_question_is_refused_by_both(setting: Setting) -> None:
    """The case the issue found: practice refused it, the exam saved it."""
    question, selected = setting.questions["single"], setting.options["single"]
    refusal = ("refused", {"selected_option_ids": [SINGLE_ONE]})
    assert _practice(setting, question, selected) == refusal
    assert _exam(setting, question, selected, batch=False) == refusal
    assert _exam(setting, question, selected, batch=True) == refusal
