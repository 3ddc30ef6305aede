"""Input and output shapes of the practice API (api-contract.md, "Practice mode")."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.practice.models import PracticeMode, PracticeSession, ReportReason
from apps.practice.selectors import score_percent
from apps.practice.services import MAX_QUESTIONS_PER_SESSION, MAX_SELECTED_OPTIONS
from apps.questions.api.serializers import MediaSerializer, OptionPublicSerializer

MAX_INT = 2_147_483_647
MAX_SLUGS = 50


# --- Sessions ------------------------------------------------------------------------------


class PracticeSessionCreateInputSerializer(InputSerializer):
    categories = serializers.ListField(
        child=serializers.SlugField(max_length=120),
        required=False,
        default=list,
        max_length=MAX_SLUGS,
        help_text="Category slugs to draw from; empty or omitted means every category.",
    )
    subcategories = serializers.ListField(
        child=serializers.SlugField(max_length=120),
        required=False,
        default=list,
        max_length=MAX_SLUGS,
        help_text="Subcategory slugs that narrow the draw (within the chosen categories, which "
        "they must belong to when categories are given).",
    )
    question_count = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUESTIONS_PER_SESSION,
        required=False,
        default=None,
        help_text=f"How many questions to draw, 1 to {MAX_QUESTIONS_PER_SESSION} (default 20; "
        "in the `today` mode, as many as today's limits leave, up to "
        f"{MAX_QUESTIONS_PER_SESSION}).",
    )
    include_explanations = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Show explanations with the feedback. Defaults to the profile's "
        "`prefers_explanations`.",
    )
    mode = serializers.ChoiceField(
        choices=PracticeMode.choices,
        required=False,
        default=PracticeMode.ALL,
        help_text="`all`; `unanswered`: never answered in practice; `incorrect`: last practice "
        "answer was wrong; `flagged`: flagged by the caller; `due`: due for review by the "
        "caller's spaced-repetition schedule (FSRS; every practice answer reschedules its "
        "question), most overdue first instead of shuffled; `today`: today's study, the due "
        "reviews (most overdue first) then new questions never answered in practice, within "
        "what is left of the caller's daily review and new limits (their timezone's day).",
    )


class PracticeSessionConfigSerializer(serializers.Serializer):
    include_explanations = serializers.BooleanField()
    categories = serializers.ListField(child=serializers.SlugField())
    subcategories = serializers.ListField(child=serializers.SlugField(), default=list)
    mode = serializers.ChoiceField(choices=PracticeMode.choices, default=PracticeMode.ALL)


class _PracticeSessionCountsMixin(serializers.Serializer):
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    incorrect = serializers.SerializerMethodField()
    unanswered = serializers.SerializerMethodField()
    score_percent = serializers.SerializerMethodField(
        help_text="Correct answers as a whole percentage of the answered ones; null before the "
        "first answer."
    )
    question_count = serializers.IntegerField(help_text="Questions in the session.")
    requested_count = serializers.IntegerField(help_text="Questions asked for at creation.")
    time_spent_sec = serializers.IntegerField(
        help_text="Sum of answer times, each counted up to a cap (600 s by default)."
    )
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_incorrect(self, obj: PracticeSession) -> int:
        return obj.answered - obj.correct

    def get_unanswered(self, obj: PracticeSession) -> int:
        return max(obj.question_count - obj.answered, 0)

    def get_score_percent(self, obj: PracticeSession) -> int | None:
        return score_percent(correct=obj.correct, answered=obj.answered)


class PracticeSessionSerializer(_PracticeSessionCountsMixin):
    """``GET /practice/sessions/{id}`` and the body of a 201 from ``POST /practice/sessions``."""

    id = serializers.IntegerField()
    question_ids = serializers.ListField(child=serializers.IntegerField())
    config = PracticeSessionConfigSerializer()
    available_count = serializers.IntegerField(
        help_text="Questions that matched the selection when the session was drawn."
    )
    is_short = serializers.SerializerMethodField(
        help_text="True when fewer questions were available than requested: the session then "
        "holds every available question (`question_count` < `requested_count`)."
    )

    def get_is_short(self, obj: PracticeSession) -> bool:
        return obj.question_count < obj.requested_count


class PracticeSessionHistoryItemSerializer(_PracticeSessionCountsMixin):
    """One row of ``GET /practice/sessions``."""

    id = serializers.IntegerField()
    categories = serializers.SerializerMethodField(
        help_text="Chosen category slugs (empty: every category)."
    )
    mode = serializers.SerializerMethodField()

    def get_categories(self, obj: PracticeSession) -> list[str]:
        return list(obj.config.get("categories", []))

    def get_mode(self, obj: PracticeSession) -> str:
        return str(obj.config.get("mode", PracticeMode.ALL))


# --- Session questions ---------------------------------------------------------------------


class PracticeNamedSlugSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class PracticePreviousAttemptSerializer(serializers.Serializer):
    selected_option_ids = serializers.ListField(child=serializers.IntegerField())
    is_correct = serializers.BooleanField()
    question_version = serializers.IntegerField(
        help_text="The version the answer was graded on: the key and explanation are that "
        "version's."
    )
    correct_option_ids = serializers.ListField(child=serializers.IntegerField())
    explanation = serializers.CharField(allow_null=True)
    time_spent_sec = serializers.IntegerField()
    answered_at = serializers.DateTimeField()


class PracticeSessionQuestionSerializer(serializers.Serializer):
    """A session question as the candidate sees it: never the key of an unanswered question."""

    position = serializers.IntegerField(help_text="1-based position in the session.")
    id = serializers.IntegerField(source="question.id")
    stem = serializers.CharField(source="question.stem")
    type = serializers.CharField(source="question.type", help_text="`single` or `multi`.")
    difficulty = serializers.IntegerField(source="question.difficulty")
    category = PracticeNamedSlugSerializer(source="question.category")
    subcategory = PracticeNamedSlugSerializer(source="question.subcategory", allow_null=True)
    options = OptionPublicSerializer(source="question.options.all", many=True)
    media = MediaSerializer(source="question.media.all", many=True)
    is_available = serializers.BooleanField(
        help_text="False when the question was withdrawn after the draw; it can't be answered."
    )
    is_flagged = serializers.BooleanField()
    attempt = PracticePreviousAttemptSerializer(
        allow_null=True,
        help_text="The caller's answer in this session with its feedback, or null if unanswered.",
    )


# --- Answers -------------------------------------------------------------------------------


class PracticeAnswerInputSerializer(InputSerializer):
    question_id = serializers.IntegerField(min_value=1)
    selected_option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=MAX_SELECTED_OPTIONS,
        help_text="The chosen option ids; exactly one for a `single` question.",
    )
    time_spent_sec = serializers.IntegerField(
        min_value=0,
        max_value=MAX_INT,
        required=False,
        default=0,
        help_text="Seconds spent on the question. Stored as sent; statistics count at most "
        "600 s of it.",
    )


class PracticeSessionProgressSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    question_count = serializers.IntegerField()


class PracticeAnswerFeedbackSerializer(serializers.Serializer):
    is_correct = serializers.BooleanField()
    correct_option_ids = serializers.ListField(child=serializers.IntegerField())
    explanation = serializers.CharField(
        allow_null=True, help_text="Null unless the session includes explanations."
    )
    percent_correct_others = serializers.IntegerField(
        allow_null=True,
        help_text="Percentage of earlier answers to this question (by all candidates) that "
        "were right; null when nobody had answered it.",
    )
    progress = PracticeSessionProgressSerializer()


# --- Summaries -----------------------------------------------------------------------------


class PracticeCategoryScoreSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_slug = serializers.SlugField()
    question_count = serializers.IntegerField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    score_percent = serializers.IntegerField(allow_null=True)


class PracticeSessionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question_count = serializers.IntegerField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    score_percent = serializers.IntegerField(
        allow_null=True, help_text="Correct of answered, as a whole percentage; null if none."
    )
    time_spent_sec = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    categories = PracticeCategoryScoreSerializer(many=True)


class PracticeByCategorySerializer(serializers.Serializer):
    category = serializers.CharField()
    category_slug = serializers.SlugField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField()
    score_percent = serializers.IntegerField(allow_null=True)
    last_practiced_at = serializers.DateTimeField(allow_null=True)


# --- Flags and reports ---------------------------------------------------------------------


class PracticeFlagInputSerializer(InputSerializer):
    question_id = serializers.IntegerField(min_value=1)
    is_flagged = serializers.BooleanField(
        required=False, help_text="Omitted: true for a new flag, unchanged otherwise."
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="A private note (plain text); omitted: unchanged.",
    )


class PracticeFlagQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stem = serializers.CharField()
    category = PracticeNamedSlugSerializer()


class PracticeFlagSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    is_flagged = serializers.BooleanField()
    note = serializers.CharField(help_text="Private to the caller.")
    question = PracticeFlagQuestionSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PracticeReportInputSerializer(InputSerializer):
    question_id = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Plain text; required when the reason is `other`.",
    )


class PracticeReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question_id = serializers.IntegerField()
    reason = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- Spaced repetition ---------------------------------------------------------------------


class PracticeReviewQueueSerializer(serializers.Serializer):
    """``GET /practice/review-queue``."""

    due_now = serializers.IntegerField(
        help_text="Questions due for review now: what a `due` session would draw."
    )
    due_today = serializers.IntegerField(
        help_text="Questions due by the end of today in the caller's profile timezone, the ones "
        "already due included."
    )
    next_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the next question not yet due falls due; null when none is scheduled.",
    )
