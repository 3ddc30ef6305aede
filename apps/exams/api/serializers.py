"""Input and output shapes of exam mode (api-contract.md, "Exam mode")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.exams.models import SessionEventKind
from apps.exams.selectors import SavedAnswer
from apps.exams.services import AnswerInput
from apps.questions.api.serializers import MediaSerializer, OptionPublicSerializer
from apps.questions.grading import MAX_SELECTED_OPTIONS

MAX_OPTIONS_PER_ANSWER = MAX_SELECTED_OPTIONS  # the selection rule's own limit
MAX_ANSWERS_PER_BATCH = 500


# --- Input --------------------------------------------------------------------------------------


class StartExamSessionSerializer(InputSerializer):
    template_id = serializers.IntegerField(min_value=1)


class ExamSessionEventInputSerializer(InputSerializer):
    """One integrity signal the candidate's browser reports (a signal, not proof)."""

    kind = serializers.ChoiceField(
        choices=[choice for choice, _ in SessionEventKind.choices],
        help_text="focus_lost, focus_regained, hidden, visible or resumed.",
    )
    at = serializers.DateTimeField(help_text="When it happened, by the browser's clock.")


class ExamAttemptInputSerializer(InputSerializer):
    """One answer. Omitting ``selected_option_ids``, ``time_spent_sec`` or ``flagged`` keeps
    what is saved, so flagging needs no selection. Client timestamps are ignored."""

    # Documented as accepted and ignored (the server owns the clock); any other key is a 400.
    accepted_extra_fields = ("saved_at", "answered_at")

    question_id = serializers.IntegerField(min_value=1)
    selected_option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_OPTIONS_PER_ANSWER,
        required=False,
        help_text="The chosen option ids; [] clears the answer.",
    )
    time_spent_sec = serializers.IntegerField(
        min_value=0, required=False, help_text="Seconds spent on this question so far."
    )
    flagged = serializers.BooleanField(required=False, help_text="Flag for review.")

    def to_answer(self) -> AnswerInput:
        return answer_input(self.validated_data)


def answer_input(data: dict[str, Any]) -> AnswerInput:
    return AnswerInput(
        question_id=data["question_id"],
        selected_option_ids=data.get("selected_option_ids"),
        time_spent_sec=data.get("time_spent_sec"),
        flagged=data.get("flagged"),
    )


class ExamAttemptBatchInputSerializer(InputSerializer):
    attempts = serializers.ListField(
        child=ExamAttemptInputSerializer(), min_length=1, max_length=MAX_ANSWERS_PER_BATCH
    )


# Far below the 1000 digits the serializer's IntegerField refuses; a larger number goes to it.
_PLAIN_INT_MAX = 2**53


_ANSWER_KEYS = frozenset(ExamAttemptInputSerializer().fields) | frozenset(
    ExamAttemptInputSerializer.accepted_extra_fields
)


def _positive_int(value: Any) -> bool:
    return type(value) is int and 1 <= value <= _PLAIN_INT_MAX


def plain_batch(data: Any) -> list[AnswerInput] | None:
    """The answers of a batch whose every value already has its exact type (what any client
    sending JSON numbers, lists and booleans sends), without running
    :class:`ExamAttemptBatchInputSerializer`: 180 answers through its nested fields cost ~5 ms.

    Accepts only what the serializer accepts and gives what it would give; anything else
    (strings for numbers, nulls, a value out of range, a wrong size) returns None, and the
    caller runs the serializer, which gives the answer or its errors."""
    attempts = data.get("attempts") if isinstance(data, dict) else None
    if type(attempts) is not list or not 1 <= len(attempts) <= MAX_ANSWERS_PER_BATCH:
        return None
    if len(data) != 1:
        return None  # an unknown key beside "attempts": the serializer names it
    answers = []
    for item in attempts:
        if type(item) is not dict or not _positive_int(item.get("question_id")):
            return None
        if not item.keys() <= _ANSWER_KEYS:
            return None
        selected = item.get("selected_option_ids")
        if "selected_option_ids" in item and not (
            type(selected) is list
            and len(selected) <= MAX_OPTIONS_PER_ANSWER
            and all(_positive_int(v) for v in selected)
        ):
            return None
        spent = item.get("time_spent_sec")
        if "time_spent_sec" in item and not (type(spent) is int and 0 <= spent <= _PLAIN_INT_MAX):
            return None
        flagged = item.get("flagged")
        if "flagged" in item and type(flagged) is not bool:
            return None
        answers.append(
            AnswerInput(
                question_id=item["question_id"],
                selected_option_ids=selected,
                time_spent_sec=spent,
                flagged=flagged,
            )
        )
    return answers


# --- Output -------------------------------------------------------------------------------------


class ExamTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    paper = serializers.IntegerField()
    duration_minutes = serializers.IntegerField()
    total_questions = serializers.IntegerField()
    description = serializers.CharField()
    available = serializers.BooleanField(help_text="Whether the bank can fill it right now.")
    unavailable_reason = serializers.CharField(allow_null=True)


class ExamQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="1-based position in this session.")
    stem = serializers.CharField()
    type = serializers.ChoiceField(choices=["single", "multi"])
    category = serializers.CharField()
    options = OptionPublicSerializer(many=True, help_text="In this session's stored order.")
    media = MediaSerializer(many=True)


class ExamSavedAnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    selected_option_ids = serializers.ListField(child=serializers.IntegerField())
    flagged = serializers.BooleanField()
    time_spent_sec = serializers.IntegerField()
    saved_at = serializers.DateTimeField()


_SAVED_AT = ExamSavedAnswerSerializer().fields["saved_at"]


def saved_answers_body(saved: Sequence[SavedAnswer]) -> list[dict[str, Any]]:
    """Saved answers in :class:`ExamSavedAnswerSerializer`'s shape, built directly (a batch is
    up to 500 answers, all saved at the same instant): the same values without a serializer
    per answer. One home for both the single and the batch reply."""
    formatted: dict[Any, Any] = {}
    rows = []
    for answer in saved:
        if answer.saved_at not in formatted:
            formatted[answer.saved_at] = _SAVED_AT.to_representation(answer.saved_at)
        rows.append(
            {
                "question_id": answer.question_id,
                "selected_option_ids": list(answer.selected_option_ids),
                "flagged": answer.flagged,
                "time_spent_sec": answer.time_spent_sec,
                "saved_at": formatted[answer.saved_at],
            }
        )
    return rows


class ExamCategoryResultSerializer(serializers.Serializer):
    category_id = serializers.IntegerField()
    category = serializers.CharField()
    category_slug = serializers.CharField()
    total = serializers.IntegerField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    score_percent = serializers.IntegerField()


class ExamResultBodySerializer(serializers.Serializer):
    score_percent = serializers.IntegerField()
    correct = serializers.IntegerField()
    answered = serializers.IntegerField()
    total = serializers.IntegerField()
    time_spent_sec = serializers.IntegerField()
    categories = ExamCategoryResultSerializer(many=True)


class ExamTemplateRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    paper = serializers.IntegerField(required=False)


@extend_schema_field(ExamQuestionSerializer(many=True))
class ExamQuestionsField(serializers.Field):
    """The paper's questions, which ``exam_paper`` builds already in the shape of
    :class:`ExamQuestionSerializer` (plain data): passed through as they are. 180 questions
    through the nested serializers cost ~10 ms; the schema documents the nested shape."""

    def to_representation(self, value: Any) -> Any:
        return value


class ExamSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    template = ExamTemplateRefSerializer()
    status = serializers.ChoiceField(choices=["in_progress", "submitted", "expired_submitted"])
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    server_now = serializers.DateTimeField(help_text="The server's clock, for the countdown.")
    submitted_at = serializers.DateTimeField(allow_null=True)
    duration_minutes = serializers.IntegerField()
    total_questions = serializers.IntegerField()
    answered = serializers.IntegerField()
    flagged = serializers.IntegerField()
    questions = ExamQuestionsField()
    answers = ExamSavedAnswerSerializer(many=True)
    result = ExamResultBodySerializer(allow_null=True, help_text="Only once submitted.")


class ExamSavedAttemptsSerializer(serializers.Serializer):
    attempts = ExamSavedAnswerSerializer(many=True)


class ExamResultSerializer(ExamResultBodySerializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["submitted", "expired_submitted"])
    submitted_at = serializers.DateTimeField()
    auto_submitted = serializers.BooleanField()


class ExamHistoryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    template = serializers.SerializerMethodField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField()
    score_percent = serializers.IntegerField(allow_null=True)
    correct = serializers.IntegerField(allow_null=True)
    answered = serializers.IntegerField(allow_null=True)
    time_spent_sec = serializers.IntegerField(allow_null=True)
    total_questions = serializers.SerializerMethodField()

    def get_template(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.template.id, "name": obj.template.name, "paper": obj.template.paper}

    def get_total_questions(self, obj: Any) -> int:
        return int(obj.template.total_questions)


class ExamReviewAttemptSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    question_version = serializers.IntegerField(
        help_text="The version the answer was graded on: the stem, options, key and "
        "explanation shown are that version's."
    )
    position = serializers.IntegerField()
    stem = serializers.CharField()
    type = serializers.CharField()
    category = serializers.CharField()
    options = OptionPublicSerializer(many=True)
    media = MediaSerializer(many=True)
    selected_option_ids = serializers.ListField(child=serializers.IntegerField())
    flagged = serializers.BooleanField()
    correct_option_ids = serializers.ListField(child=serializers.IntegerField())
    is_correct = serializers.BooleanField()
    explanation = serializers.CharField()
    reference = serializers.CharField()


class ExamReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    template = ExamTemplateRefSerializer()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    score_percent = serializers.IntegerField()
    result = ExamResultBodySerializer()
    attempts = ExamReviewAttemptSerializer(many=True)
