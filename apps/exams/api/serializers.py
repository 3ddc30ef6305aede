"""Input and output shapes of exam mode (api-contract.md, "Exam mode")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.exams.services import AnswerInput
from apps.questions.api.serializers import MediaSerializer, OptionPublicSerializer

MAX_OPTIONS_PER_ANSWER = 20
MAX_ANSWERS_PER_BATCH = 500


# --- Input --------------------------------------------------------------------------------------


class StartExamSessionSerializer(serializers.Serializer):
    template_id = serializers.IntegerField(min_value=1)


class ExamAttemptInputSerializer(serializers.Serializer):
    """One answer. Omitting ``selected_option_ids``, ``time_spent_sec`` or ``flagged`` keeps
    what is saved, so flagging needs no selection. Client timestamps are ignored."""

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


class ExamAttemptBatchInputSerializer(serializers.Serializer):
    attempts = serializers.ListField(
        child=ExamAttemptInputSerializer(), min_length=1, max_length=MAX_ANSWERS_PER_BATCH
    )


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
    questions = ExamQuestionSerializer(many=True)
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
