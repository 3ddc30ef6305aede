"""Shapes of the question API. Candidate shapes never carry ``is_correct``, the explanation
or anything else that gives the key away; the staff shapes do."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api.serializers import InputSerializer
from apps.questions.models import (
    ImportJob,
    MediaKind,
    Question,
    QuestionStatus,
    QuestionType,
)
from apps.questions.services import MAX_OPTIONS
from apps.questions.services.imports.validation import IMPORTABLE_STATUSES
from apps.taxonomy.models import Subcategory
from apps.taxonomy.selectors import category_by_slug


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class OptionPublicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class OptionStaffSerializer(OptionPublicSerializer):
    is_correct = serializers.BooleanField()
    order = serializers.IntegerField()


class MediaSerializer(serializers.Serializer):
    url = serializers.URLField()
    kind = serializers.ChoiceField(choices=MediaKind.choices)
    alt_text = serializers.CharField()
    caption = serializers.CharField()


class QuestionPublicSerializer(serializers.Serializer):
    """What a candidate sees. Do not add fields that reveal the key."""

    id = serializers.IntegerField()
    stem = serializers.CharField()
    type = serializers.ChoiceField(choices=QuestionType.choices)
    difficulty = serializers.IntegerField()
    category = CategoryRefSerializer()
    subcategory = CategoryRefSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()
    options = OptionPublicSerializer(many=True, source="options.all")
    media = MediaSerializer(many=True, source="media.all")

    def get_tags(self, obj: Question) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class QuestionStaffSerializer(QuestionPublicSerializer):
    """What editors and admins see: the key, the explanation and the bookkeeping."""

    options = OptionStaffSerializer(many=True, source="options.all")
    explanation = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=QuestionStatus.choices)
    version = serializers.IntegerField()
    is_synthetic = serializers.BooleanField()
    times_answered = serializers.IntegerField()
    times_correct = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- input -----------------------------------------------------------------------------------
class OptionInputSerializer(InputSerializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    text = serializers.CharField(max_length=2000, allow_blank=True)
    is_correct = serializers.BooleanField(default=False)


class MediaInputSerializer(InputSerializer):
    url = serializers.URLField(max_length=500)
    kind = serializers.ChoiceField(choices=MediaKind.choices, default=MediaKind.IMAGE)
    alt_text = serializers.CharField(max_length=300, allow_blank=True, default="")
    caption = serializers.CharField(max_length=300, allow_blank=True, default="")


class QuestionWriteSerializer(InputSerializer):
    """Create (POST), replace (PUT) or change (PATCH) a question with its options. ``options``
    is always the complete set: include an option's ``id`` to keep it (past attempts refer to
    it); options left out are removed. Integrity rules are checked by the service."""

    stem = serializers.CharField(max_length=10000)
    type = serializers.ChoiceField(choices=QuestionType.choices, default=QuestionType.SINGLE)
    category = serializers.SlugField()
    subcategory = serializers.SlugField(required=False, allow_null=True, allow_blank=True)
    difficulty = serializers.IntegerField(min_value=1, max_value=5, default=3)
    explanation = serializers.CharField(max_length=20000, allow_blank=True, default="")
    reference = serializers.CharField(max_length=500, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=QuestionStatus.choices, default=QuestionStatus.DRAFT)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=30
    )
    options = OptionInputSerializer(many=True, max_length=MAX_OPTIONS + 5)  # type: ignore[call-arg]
    media = MediaInputSerializer(many=True, required=False, max_length=10)  # type: ignore[call-arg]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Question | None = self.instance
        if "category" in attrs:
            category = category_by_slug(slug=attrs["category"], active_only=False)
            if category is None:
                raise serializers.ValidationError({"category": ["Unknown category."]})
            attrs["category"] = category
        category_for_sub = attrs.get("category") or (instance.category if instance else None)
        if attrs.get("subcategory"):
            subcategory = Subcategory.objects.filter(
                category=category_for_sub, slug=attrs["subcategory"]
            ).first()
            if subcategory is None:
                raise serializers.ValidationError(
                    {"subcategory": ["No such subcategory in this category."]}
                )
            attrs["subcategory"] = subcategory
        elif "subcategory" in attrs:
            attrs["subcategory"] = None
        return attrs


class ImportRequestSerializer(InputSerializer):
    file = serializers.FileField(allow_empty_file=True)
    dry_run = serializers.BooleanField(default=False)
    status = serializers.ChoiceField(
        choices=list(IMPORTABLE_STATUSES),
        default=QuestionStatus.DRAFT,
        help_text="Status of imported questions whose row does not say.",
    )


class ImportAcceptedSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    status = serializers.CharField()


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "valid", "duplicate", "invalid"])
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    question_id = serializers.IntegerField(required=False)
    duplicate_of = serializers.CharField(required=False)


class ImportJobSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField(source="pk")
    created = serializers.IntegerField(source="created_count")
    duplicates = serializers.IntegerField(source="duplicate_count")
    invalid = serializers.IntegerField(source="invalid_count")
    report = ImportRowSerializer(many=True)

    class Meta:
        model = ImportJob
        fields = (
            "job_id",
            "status",
            "filename",
            "format",
            "dry_run",
            "total_rows",
            "created",
            "duplicates",
            "invalid",
            "report",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        )
