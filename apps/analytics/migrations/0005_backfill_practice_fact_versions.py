"""Practice attempts have always recorded the question version they were graded on; the
learning record's facts written before ``AnswerFact.question_version`` existed take it from
their attempt, so item analysis can use them. Exam facts stay null: the version an exam answer
was graded on was not recorded before (``ExamAnswer.question_version`` is new too)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    AnswerFact = apps.get_model("analytics", "AnswerFact")
    PracticeAttempt = apps.get_model("practice", "PracticeAttempt")
    version = PracticeAttempt.objects.filter(
        session_id=OuterRef("source_id"), question_id=OuterRef("question_id")
    ).values("question_version")[:1]
    AnswerFact.objects.filter(source="practice", question_version__isnull=True).update(
        question_version=Subquery(version)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_answerfact_question_version"),
        ("practice", "0002_review_card"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
