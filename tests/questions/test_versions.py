"""Question versions: every edit path snapshots the content it changes, numbers follow
``Question.version``, snapshots are never changed, and the re-key service."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import Conflict, NotFound, ValidationFailed
from apps.questions.models import AnswerOption, ImportJob, Question, QuestionVersion
from apps.questions.selectors import graded_version, version_history, version_of, versions_of
from apps.questions.services import create_question, run_import_job, update_question
from apps.questions.services.versions import rekey_question, snapshot_question
from tests.questions.factories import make_question
from tests.questions.test_admin import FIVE, question_form
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def key_of(question: Question) -> list[int]:
    return sorted(question.options.filter(is_correct=True).values_list("id", flat=True))


def numbers(question: Question) -> list[int]:
    return [v.number for v in versions_of(question_id=question.pk)]


def options_spec(question: Question, correct_index: int) -> list[dict[str, Any]]:
    return [
        {"id": o.pk, "text": o.text, "is_correct": i == correct_index}
        for i, o in enumerate(question.options.order_by("order", "id"))
    ]


@pytest.fixture
def editor_web(editor: Any) -> Client:
    client = Client()
    client.force_login(editor)
    return client


# --- the services ------------------------------------------------------------------------------
def test_creating_a_question_snapshots_version_one(editor: Any) -> None:
    category = CategoryFactory()
    q = create_question(
        actor=editor,
        stem="Which nerve supplies the deltoid?",
        category=category,
        explanation="The axillary nerve.",
        options=[{"text": "Axillary", "is_correct": True}, {"text": "Radial"}],
    )
    [v] = versions_of(question_id=q.pk)
    assert (v.number, q.version, v.stem, v.explanation, v.type) == (
        1,
        1,
        q.stem,
        "The axillary nerve.",
        "single",
    )
    assert v.correct_option_ids == key_of(q)
    assert [(o["text"], o["is_correct"]) for o in v.options] == [
        ("Axillary", True),
        ("Radial", False),
    ]
    assert (v.created_by, v.reason) == (editor, "Created.")


def test_changing_the_key_keeps_the_old_version_and_snapshots_the_new(editor: Any) -> None:
    q = make_question()  # made by a factory: no snapshot yet
    old_key, old_explanation = key_of(q), q.explanation
    update_question(
        question=q, actor=editor, options=options_spec(q, 4), reason="Key was wrong.", stem=q.stem
    )
    q.refresh_from_db()
    assert q.version == 2
    old, new = versions_of(question_id=q.pk)
    # The content before the edit was kept first (as version 1), then the edit (version 2).
    assert (old.number, old.correct_option_ids, old.explanation) == (1, old_key, old_explanation)
    assert (new.number, new.correct_option_ids, new.reason) == (2, key_of(q), "Key was wrong.")
    assert new.created_by == editor
    assert old_key != key_of(q)


@pytest.mark.parametrize(
    ("field", "value"),
    [("stem", "A wholly new stem about the radial nerve?"), ("explanation", "New reasoning.")],
)
def test_changing_the_stem_or_explanation_makes_a_version(
    editor: Any, field: str, value: str
) -> None:
    q = make_question()
    update_question(question=q, actor=editor, **{field: value})
    q.refresh_from_db()
    assert (q.version, numbers(q)) == (2, [1, 2])
    assert getattr(version_of(question_id=q.pk, number=2), field) == value
    assert getattr(version_of(question_id=q.pk, number=1), field) != value


def test_changing_option_text_or_order_makes_a_version(editor: Any) -> None:
    q = make_question()
    spec = options_spec(q, 0)
    spec[1]["text"] = "A reworded distractor"
    update_question(question=q, actor=editor, options=spec)
    update_question(question=q, actor=editor, options=list(reversed(spec)))
    q.refresh_from_db()
    assert numbers(q) == [1, 2, 3]
    v2, v3 = version_of(question_id=q.pk, number=2), version_of(question_id=q.pk, number=3)
    assert v2 is not None
    assert v3 is not None
    assert v2.options[1]["text"] == "A reworded distractor"
    assert [o["id"] for o in v3.options] == [o["id"] for o in reversed(v2.options)]


def test_editing_other_fields_makes_no_version(editor: Any) -> None:
    q = make_question()
    update_question(question=q, actor=editor, stem=q.stem)  # baseline, nothing changed
    update_question(
        question=q, actor=editor, difficulty=5, reference="Another book", status="retired"
    )
    update_question(question=q, actor=editor, tags=["anatomy"], media=[])
    update_question(question=q, actor=editor, options=options_spec(q, 0))  # the same key
    q.refresh_from_db()
    assert (q.version, numbers(q)) == (1, [1])


def test_renumbering_options_without_moving_them_makes_no_version(editor: Any) -> None:
    q = make_question()
    snapshot_question(question=q)
    AnswerOption.objects.filter(question=q).update(order=10)  # same display order (by id)
    assert snapshot_question(question=q).number == 1
    assert numbers(q) == [1]


def test_snapshot_is_idempotent_and_syncs_the_instance() -> None:
    q = make_question()
    first = snapshot_question(question=q, reason="first")
    again = snapshot_question(question=q.pk)
    assert first.pk == again.pk
    Question.objects.filter(pk=q.pk).update(explanation="Changed behind the instance's back.")
    third = snapshot_question(question=q)
    assert (third.number, q.version) == (2, 2)
    assert Question.objects.get(pk=q.pk).version == 2


# --- the admin ---------------------------------------------------------------------------------
def _admin_post(
    editor_web: Client, q: Question, options: list[tuple[str, bool]], **over: Any
) -> Any:
    opts = list(q.options.order_by("order", "id"))
    data = question_form(
        q.category_id,
        options,
        existing=[o.pk for o in opts],
        stem=q.stem,
        explanation=q.explanation,
        reference=q.reference,
        status=q.status,
        **over,
    )
    data.update({f"options-{i}-question": q.pk for i in range(len(options))})
    return editor_web.post(reverse("admin:questions_question_change", args=[q.pk]), data)


def test_admin_key_change_in_the_inline_snapshots_after_the_options_are_saved(
    editor_web: Client, editor: Any
) -> None:
    q = make_question()
    old_key = key_of(q)
    texts = [o.text for o in q.options.order_by("order", "id")]
    res = _admin_post(editor_web, q, [(t, i == 2) for i, t in enumerate(texts)])
    assert res.status_code == 302
    q.refresh_from_db()
    assert (q.version, numbers(q)) == (2, [1, 2])
    v1, v2 = versions_of(question_id=q.pk)
    assert v1.correct_option_ids == old_key
    assert v2.correct_option_ids == key_of(q) != old_key  # the inline's key, not the old one
    assert (v2.created_by, v2.reason) == (editor, "Edited in the admin.")


def test_admin_edit_of_unversioned_fields_makes_no_new_version(editor_web: Client) -> None:
    q = make_question()
    texts = [o.text for o in q.options.order_by("order", "id")]
    res = _admin_post(editor_web, q, [(t, i == 0) for i, t in enumerate(texts)], difficulty=5)
    assert res.status_code == 302
    q.refresh_from_db()
    assert (q.difficulty, q.version, numbers(q)) == (5, 1, [1])


def test_admin_add_snapshots_version_one(editor_web: Client) -> None:
    category = CategoryFactory()
    res = editor_web.post(reverse("admin:questions_question_add"), question_form(category.pk, FIVE))
    assert res.status_code == 302
    q = Question.objects.get()
    [v] = versions_of(question_id=q.pk)
    assert (v.number, v.correct_option_ids, v.reason) == (1, key_of(q), "Created.")


def test_versions_are_read_only_in_the_admin(editor_web: Client) -> None:
    q = make_question()
    v = snapshot_question(question=q)
    change = reverse("admin:questions_questionversion_change", args=[v.pk])
    assert editor_web.get(reverse("admin:questions_questionversion_changelist")).status_code == 200
    page = editor_web.get(change)
    assert page.status_code == 200
    assert b'name="stem"' not in page.content  # shown, not editable
    editor_web.post(change, {"stem": "tampered", "number": 9})
    assert editor_web.get(reverse("admin:questions_questionversion_add")).status_code == 403
    assert (
        editor_web.post(reverse("admin:questions_questionversion_delete", args=[v.pk])).status_code
        == 403
    )
    v.refresh_from_db()
    assert (v.stem, v.number) == (q.stem, 1)


def test_a_version_cannot_be_saved_twice() -> None:
    v = snapshot_question(question=make_question())
    v.stem = "rewritten history"
    with pytest.raises(ValueError, match="never changed"):
        v.save()
    assert QuestionVersion.objects.get(pk=v.pk).stem != "rewritten history"


# --- the import --------------------------------------------------------------------------------
def _sample_job(editor: Any, *, dry_run: bool) -> ImportJob:
    for cat, sub in [
        ("physiology", "cardiovascular"),
        ("general-surgery", "hernia"),
        ("microbiology", "surgical-infections"),
        ("trauma", "primary-survey"),
        ("pharmacology", "anaesthetic-agents"),
    ]:
        SubcategoryFactory(category=CategoryFactory(slug=cat, name=cat.title()), slug=sub)
    return ImportJob.objects.create(
        created_by=editor,
        filename="questions.csv",
        format="csv",
        dry_run=dry_run,
        content=(SAMPLES / "questions-import.csv").read_bytes(),
    )


def test_imported_questions_each_get_version_one(editor: Any) -> None:
    job = run_import_job(job_id=_sample_job(editor, dry_run=False).pk)
    assert job.created_count > 0
    questions = list(Question.objects.all())
    assert len(questions) == job.created_count
    history = version_history(question_ids=[q.pk for q in questions])
    for q in questions:
        [v] = history[q.pk]
        assert (v.number, v.stem, v.correct_option_ids) == (1, q.stem, key_of(q))
        assert (v.reason, v.created_by) == ("Imported.", editor)


def test_a_dry_run_import_snapshots_nothing(editor: Any) -> None:
    run_import_job(job_id=_sample_job(editor, dry_run=True).pk)
    assert not QuestionVersion.objects.exists()


# --- re-keying ---------------------------------------------------------------------------------
def test_rekey_sets_the_key_bumps_the_version_and_audits(editor: Any) -> None:
    q = make_question()
    opts = list(q.options.order_by("order", "id"))
    old_key = key_of(q)
    v = rekey_question(
        question_id=q.pk, correct_option_ids=[opts[3].pk], reason="Miskeyed.", by=editor
    )
    q.refresh_from_db()
    assert (v.number, q.version, key_of(q), v.correct_option_ids) == (
        2,
        2,
        [opts[3].pk],
        [opts[3].pk],
    )
    assert (v.reason, v.created_by) == ("Miskeyed.", editor)
    assert version_of(question_id=q.pk, number=1).correct_option_ids == old_key  # type: ignore[union-attr]
    event = AuditEvent.objects.get(action="question.rekey")
    assert event.before == {"version": 1, "correct_option_ids": old_key}
    assert (event.after or {})["correct_option_ids"] == [opts[3].pk]


@pytest.mark.parametrize("bad", ["foreign", "two_for_single", "none"])
def test_rekey_refuses_an_invalid_key_and_writes_nothing(editor: Any, bad: str) -> None:
    q = make_question()
    other = make_question()
    opts = list(q.options.order_by("order", "id"))
    ids = {
        "foreign": [other.options.first().pk],  # type: ignore[union-attr]
        "two_for_single": [opts[1].pk, opts[2].pk],
        "none": [],
    }[bad]
    before = key_of(q)
    with pytest.raises(ValidationFailed) as caught:
        rekey_question(question_id=q.pk, correct_option_ids=ids, reason="r", by=editor)
    assert "correct_option_ids" in (caught.value.fields or {})
    q.refresh_from_db()
    assert (key_of(q), q.version) == (before, 1)
    assert not AuditEvent.objects.filter(action="question.rekey").exists()


def test_rekey_to_the_current_key_is_a_conflict(editor: Any) -> None:
    q = make_question()
    with pytest.raises(Conflict):
        rekey_question(question_id=q.pk, correct_option_ids=key_of(q), reason="r", by=editor)
    q.refresh_from_db()
    assert q.version == 1


def test_rekey_of_an_unknown_question_is_not_found(editor: Any) -> None:
    with pytest.raises(NotFound):
        rekey_question(question_id=987_654, correct_option_ids=[1], reason="r", by=editor)


# --- selectors and the data migration ----------------------------------------------------------
def test_graded_version_uses_the_recorded_number_else_the_one_in_force() -> None:
    q = make_question()
    v1 = snapshot_question(question=q)
    Question.objects.filter(pk=q.pk).update(explanation="Second.")
    v2 = snapshot_question(question=q)
    history = version_history(question_ids=[q.pk])[q.pk]
    assert graded_version(history, number=1, at=None) == v1
    assert graded_version(history, number=7, at=None) is None  # no snapshot of that number
    assert graded_version(history, number=None, at=v2.created_at) == v2
    assert graded_version(history, number=None, at=v1.created_at) == v1
    before_history = v1.created_at - timedelta(days=1)
    assert graded_version(history, number=None, at=before_history) == v1
    assert graded_version([], number=None, at=timezone.now()) is None
    assert version_of(question_id=q.pk, number=3) is None


def test_the_migration_snapshots_every_question_at_its_current_version() -> None:
    migration = importlib.import_module("apps.questions.migrations.0004_question_version")
    a = make_question()
    b = make_question(options=[])
    Question.objects.filter(pk=a.pk).update(version=4)
    migration.snapshot_existing_questions(django_apps, None)
    a.refresh_from_db()
    [va] = versions_of(question_id=a.pk)
    [vb] = versions_of(question_id=b.pk)
    assert (va.number, va.stem, va.explanation, va.correct_option_ids) == (
        4,
        a.stem,
        a.explanation,
        key_of(a),
    )
    assert [o["id"] for o in va.options] == list(
        a.options.order_by("order", "id").values_list("id", flat=True)
    )
    assert (vb.number, vb.options, vb.correct_option_ids) == (1, [], [])
    migration.snapshot_existing_questions(django_apps, None)  # re-running adds nothing
    assert QuestionVersion.objects.count() == 2
