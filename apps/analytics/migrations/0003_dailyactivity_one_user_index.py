from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Drops the index on ``DailyActivity.user`` alone: the ``(user, date)`` unique index serves
    every read by learner, and the planner used the narrower one to read a learner's whole
    history for a week's range of days."""

    dependencies = [
        ("analytics", "0002_learner_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="dailyactivity",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="daily_activity",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
