"""Fixed forms: one draw frozen into a fixed template that every candidate sits identically."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.core.exceptions import ValidationFailed
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import ExamTemplate, TemplateKind
from apps.exams.services import publish_fixed_form, start_exam_session, submit_exam_session
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.exams.factories import blueprint_template, fixed_template, make_bank
from tests.exams.test_drawing import paper_template, set_paper_blueprint
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

TEMPLATES = "/admin/exams/examtemplate/"


def test_a_form_is_the_same_paper_for_every_candidate(examiner):
    first, second = make_bank(categories=2, per_category=15)
    for category in (first, second):
        make_question(category=category, type="multi")
    set_paper_blueprint(1, {first: 60, second: 30}, question_count=90, duration_minutes=90)
    source = paper_template(questions=12)
    form = publish_fixed_form(template_id=source.id, actor=examiner)
    assert form.name == f"{source.name}, form A"
    assert (form.kind, form.paper, form.is_active, form.shuffle_questions) == (
        TemplateKind.FIXED,
        source.paper,
        True,
        False,
    )
    assert (form.total_questions, form.duration_minutes) == (12, 12)
    listed = list(form.fixed_questions.values_list("question_id", flat=True))
    assert set(Question.objects.filter(id__in=listed).values_list("type", flat=True)) == {"single"}

    # A candidate who has already met some of its questions gets the same paper all the same.
    seasoned, fresh = UserFactory(), UserFactory()
    earlier = start_exam_session(user=seasoned, template_id=source.id).session
    submit_exam_session(session_id=earlier.id, user=seasoned)
    papers = [
        start_exam_session(user=who, template_id=form.id).session for who in (seasoned, fresh)
    ]
    assert papers[0].question_ids == papers[1].question_ids == listed

    event = AuditEvent.objects.get(action="exam_template.publish_form")
    assert event.target_id == str(form.id)
    assert event.before == {"source_template_id": source.id, "source_name": source.name}
    assert event.after is not None
    assert event.after["fixed_question_ids"] == listed
    # The next form of the same source takes the next letter.
    assert publish_fixed_form(template_id=source.id, actor=examiner).name.endswith("form B")


def test_a_form_draws_reproducibly_from_its_seed(examiner):
    (category,) = make_bank(categories=1, per_category=20)
    source = blueprint_template({category: 8})
    one = publish_fixed_form(template_id=source.id, actor=examiner, name="One", seed=7)
    two = publish_fixed_form(template_id=source.id, actor=examiner, name="Two", seed=7)
    assert list(one.fixed_questions.values_list("question_id", flat=True)) == list(
        two.fixed_questions.values_list("question_id", flat=True)
    )


def test_what_cannot_be_a_form_is_refused_and_nothing_is_written(examiner):
    (category,) = make_bank(categories=1, per_category=3)
    fixed = fixed_template(list(category.questions.all()))
    with pytest.raises(ValidationFailed):
        publish_fixed_form(template_id=fixed.id, actor=examiner)
    too_big = blueprint_template({category: 3}, total_questions=4)
    with pytest.raises(TemplateUnfillable):
        publish_fixed_form(template_id=too_big.id, actor=examiner)
    short = blueprint_template({category: 3})
    # One of the three is retired: the bank cannot fill the blueprint any more.
    category.questions.filter(id=category.questions.order_by("id")[0].id).update(status="retired")
    with pytest.raises(TemplateUnfillable):
        publish_fixed_form(template_id=short.id, actor=examiner)
    with pytest.raises(ValidationFailed):
        publish_fixed_form(template_id=short.id, actor=examiner, name=fixed.name)
    assert ExamTemplate.objects.count() == 3
    assert not AuditEvent.objects.filter(action="exam_template.publish_form").exists()


def test_examiners_publish_forms_from_the_admin(examiner):
    (category,) = make_bank(categories=1, per_category=10)
    source = blueprint_template({category: 5}, name="Spring mock, Paper 1")
    fixed = fixed_template(list(category.questions.all()[:2]), name="Old form")
    client = Client()
    client.force_login(examiner)
    response = client.post(
        TEMPLATES,
        {"action": "publish_fixed_forms", "_selected_action": [source.id, fixed.id]},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Published Spring mock, Paper 1, form A (5 questions)." in html
    assert "Old form: A fixed template is a form already" in html
    form = ExamTemplate.objects.get(name="Spring mock, Paper 1, form A")
    assert form.fixed_questions.count() == 5
    assert ExamTemplate.objects.count() == 3


def test_editors_cannot_publish_forms(editor):
    (category,) = make_bank(categories=1, per_category=10)
    source = blueprint_template({category: 5})
    client = Client()
    client.force_login(editor)
    response = client.post(
        TEMPLATES, {"action": "publish_fixed_forms", "_selected_action": [source.id]}
    )
    assert response.status_code == 403
    assert ExamTemplate.objects.count() == 1
