from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.audit.models import AuditEvent
from apps.core.exceptions import ValidationFailed
from apps.questions.models import AnswerOption, Question, QuestionStatus
from apps.questions.normalisation import stem_fingerprint
from apps.questions.services import (
    create_question,
    delete_question,
    publish_question,
    record_question_stats,
    retire_question,
    set_status_bulk,
    update_question,
    validate_option_set,
)
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db


def five(correct: tuple[int, ...] = (0,)) -> list[dict[str, Any]]:
    return [{"text": f"Choice {i}", "is_correct": i in correct} for i in range(5)]


# --- the option-set rule ---------------------------------------------------------------------
option_st = st.fixed_dictionaries(
    {"text": st.sampled_from(["", "  ", "a", "b", "c", "d", "e", "f"]), "is_correct": st.booleans()}
)


@given(type_=st.sampled_from(["single", "multi"]), options=st.lists(option_st, max_size=12))
@settings(max_examples=300, deadline=None)
def test_option_set_rule_matches_its_definition(type_: str, options: list[dict[str, Any]]) -> None:
    texts = [o["text"].strip() for o in options]
    n_correct = sum(o["is_correct"] for o in options)
    expected_valid = (
        2 <= len(options) <= 10
        and all(texts)
        and len(set(texts)) == len(texts)
        and (n_correct == 1 if type_ == "single" else n_correct >= 1)
    )
    assert (validate_option_set(type=type_, options=options) == []) is expected_valid


def test_unknown_type_is_invalid() -> None:
    assert validate_option_set(type="essay", options=five()) != []


# --- create ------------------------------------------------------------------------------------
def test_create_question_writes_options_tags_media_and_fingerprint(editor: Any) -> None:
    sub = SubcategoryFactory()
    q = create_question(
        actor=editor,
        stem="  Which nerve supplies the <b>deltoid</b>?  ",
        category=sub.category,
        subcategory=sub,
        options=five(correct=(2,)),
        tags=["Upper limb", "nerves", "upper limb"],
        media=[{"url": "https://img.example.com/a.png", "alt_text": "shoulder"}],
        explanation="<p>Axillary nerve.</p><script>alert(1)</script>",
    )
    assert q.status == QuestionStatus.DRAFT
    assert q.version == 1
    assert q.created_by == editor
    assert q.stem_normalised == stem_fingerprint("which nerve supplies the deltoid")
    assert "<script>" not in q.explanation
    assert "alert" not in q.explanation
    assert list(q.options.values_list("text", "is_correct", "order")) == [
        (f"Choice {i}", i == 2, i) for i in range(5)
    ]
    assert sorted(q.tags.values_list("slug", flat=True)) == ["nerves", "upper-limb"]
    assert q.media.get().alt_text == "shoulder"
    event = AuditEvent.objects.get(action="question.create")
    assert event.actor == editor
    assert event.kind == "content"
    assert (event.after or {})["options"][2]["is_correct"] is True


@pytest.mark.parametrize(
    ("type_", "options", "message_part"),
    [
        ("single", five(correct=()), "exactly one"),
        ("single", five(correct=(0, 1)), "exactly one"),
        ("multi", five(correct=()), "at least one"),
        ("single", [{"text": "only", "is_correct": True}], "at least 2"),
        ("single", [{"text": "a", "is_correct": True}, {"text": " ", "is_correct": False}], "text"),
        ("single", [{"text": "a", "is_correct": True}, {"text": "A", "is_correct": False}], "same"),
    ],
)
def test_create_refuses_invalid_option_sets_and_writes_nothing(
    editor: Any, type_: str, options: list[dict[str, Any]], message_part: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        create_question(
            actor=editor, stem="A stem", category=CategoryFactory(), type=type_, options=options
        )
    assert message_part in " ".join((info.value.fields or {})["options"])
    assert Question.objects.count() == 0
    assert AnswerOption.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_multi_with_two_correct_is_fine(editor: Any) -> None:
    q = create_question(
        actor=editor,
        stem="Pick two",
        category=CategoryFactory(),
        type="multi",
        options=five((0, 3)),
    )
    assert q.options.filter(is_correct=True).count() == 2


def test_subcategory_of_another_category_is_refused(editor: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        create_question(
            actor=editor,
            stem="A stem",
            category=CategoryFactory(),
            subcategory=SubcategoryFactory(),
            options=five(),
        )
    assert "subcategory" in (info.value.fields or {})


def test_duplicate_stem_is_refused_modulo_case_space_and_punctuation(editor: Any) -> None:
    make_question(stem="What is the commonest cause of small bowel obstruction?")
    with pytest.raises(ValidationFailed) as info:
        create_question(
            actor=editor,
            stem="what is the  commonest cause of small-bowel obstruction",
            category=CategoryFactory(),
            options=five(),
        )
    assert "stem" in (info.value.fields or {})


def test_blank_stem_and_bad_difficulty(editor: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        create_question(
            actor=editor,
            stem="<script>x</script>",
            category=CategoryFactory(),
            options=five(),
            difficulty=9,
        )
    assert set(info.value.fields or {}) == {"stem", "difficulty"}


# --- update and version ------------------------------------------------------------------------
def test_editing_unversioned_fields_keeps_version(editor: Any) -> None:
    q = make_question()
    update_question(question=q, actor=editor, reference="Another book", difficulty=4)
    q.refresh_from_db()
    assert (q.version, q.difficulty, q.reference) == (1, 4, "Another book")


def test_editing_the_explanation_bumps_version(editor: Any) -> None:
    """The explanation is what a review shows beside the key, so it is versioned too."""
    q = make_question()
    update_question(question=q, actor=editor, explanation="Better explanation")
    q.refresh_from_db()
    assert (q.version, q.explanation) == (2, "Better explanation")


def test_changing_the_key_bumps_version_and_keeps_option_ids(editor: Any) -> None:
    q = make_question()
    opts = list(q.options.all())
    new = [{"id": o.pk, "text": o.text, "is_correct": i == 4} for i, o in enumerate(opts)]
    update_question(question=q, actor=editor, options=new)
    q.refresh_from_db()
    assert q.version == 2
    assert list(q.options.values_list("id", flat=True)) == [o.pk for o in opts]
    assert q.options.get(is_correct=True).pk == opts[4].pk
    event = AuditEvent.objects.get(action="question.update")
    assert (event.before or {})["version"] == 1
    assert (event.after or {})["version"] == 2


def test_replacing_options_removes_unlisted_and_adds_new(editor: Any) -> None:
    q = make_question()
    first = q.options.order_by("id")[0]
    update_question(
        question=q,
        actor=editor,
        options=[
            {"id": first.pk, "text": first.text, "is_correct": True},
            {"text": "Brand new", "is_correct": False},
        ],
    )
    assert q.options.count() == 2
    assert q.options.filter(pk=first.pk).exists()
    q.refresh_from_db()
    assert q.version == 2


def test_same_options_do_not_bump_version(editor: Any) -> None:
    q = make_question()
    same = [{"id": o.pk, "text": o.text, "is_correct": o.is_correct} for o in q.options.all()]
    update_question(question=q, actor=editor, options=same)
    q.refresh_from_db()
    assert q.version == 1
    assert not AuditEvent.objects.filter(action="question.update").exists()


def test_invalid_update_is_refused_and_nothing_changes(editor: Any) -> None:
    q = make_question()
    before = list(q.options.values_list("id", "text", "is_correct"))
    with pytest.raises(ValidationFailed):
        update_question(
            question=q,
            actor=editor,
            stem="Changed stem",
            options=[{"text": "x", "is_correct": False}, {"text": "y", "is_correct": False}],
        )
    q.refresh_from_db()
    assert q.stem != "Changed stem"
    assert list(q.options.values_list("id", "text", "is_correct")) == before


def test_switching_multi_to_single_with_two_correct_is_refused(editor: Any) -> None:
    q = make_question(type="multi")
    with pytest.raises(ValidationFailed):
        update_question(question=q, actor=editor, type="single")


def test_option_ids_of_another_question_are_refused(editor: Any) -> None:
    q, other = make_question(), make_question()
    foreign = other.options.order_by("id")[0]
    with pytest.raises(ValidationFailed):
        update_question(
            question=q,
            actor=editor,
            options=[
                {"id": foreign.pk, "text": "steal", "is_correct": True},
                {"text": "other", "is_correct": False},
            ],
        )
    foreign.refresh_from_db()
    assert foreign.text != "steal"


# --- status and delete -------------------------------------------------------------------------
def test_publish_and_retire_are_audited(editor: Any) -> None:
    q = make_question(status=QuestionStatus.DRAFT)
    publish_question(question=q, actor=editor)
    retire_question(question=q, actor=editor)
    q.refresh_from_db()
    assert q.status == QuestionStatus.RETIRED
    assert list(AuditEvent.objects.order_by("id").values_list("action", "before", "after")) == [
        ("question.publish", {"status": "draft"}, {"status": "published"}),
        ("question.retire", {"status": "published"}, {"status": "retired"}),
    ]


def test_unanswered_question_is_deleted(editor: Any) -> None:
    q = make_question()
    assert delete_question(question=q, actor=editor) == "deleted"
    assert not Question.objects.filter(pk=q.pk).exists()
    assert (AuditEvent.objects.get(action="question.delete").before or {})["stem"] == q.stem


def test_answered_question_is_retired_not_deleted(editor: Any) -> None:
    q = make_question()
    record_question_stats(counts={q.pk: (1, 0)})
    assert delete_question(question=q, actor=editor) == "retired"
    q.refresh_from_db()
    assert q.status == QuestionStatus.RETIRED
    assert q.options.count() == 5


def test_bulk_status_skips_unchanged(editor: Any) -> None:
    a, b = make_question(), make_question(status=QuestionStatus.DRAFT)
    assert set_status_bulk(question_ids=[a.pk, b.pk], status="published", actor=editor) == 1
    assert set_status_bulk(question_ids=[a.pk, b.pk], status="retired", actor=editor) == 2


# --- statistics --------------------------------------------------------------------------------
def test_record_question_stats_increments() -> None:
    a, b, c = make_question(), make_question(), make_question()
    record_question_stats(counts={a.pk: (2, 1), b.pk: (1, 1), c.pk: (0, 0)})
    record_question_stats(counts={a.pk: (1, 1)})
    got = dict(Question.objects.values_list("id", "times_answered"))
    assert (got[a.pk], got[b.pk], got[c.pk]) == (3, 1, 0)
    a.refresh_from_db()
    assert a.times_correct == 2


def test_record_question_stats_refuses_impossible_counts() -> None:
    q = make_question()
    with pytest.raises(ValueError):
        record_question_stats(counts={q.pk: (1, 2)})
    q.refresh_from_db()
    assert q.times_answered == 0
