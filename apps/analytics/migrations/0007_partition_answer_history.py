"""Partitions ``analytics_answerfact`` by month of session (docs/partitioning.md): the table becomes the
partition below the first monthly base, every row and every index and constraint name kept, and
partitions are created for this month and the next ones. Not atomic: the range check is
validated first while reads and writes go on; the conversion itself is one short transaction.
Reversible: the monthly partitions' rows are moved back into one plain table.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from apps.core import partitioning

HISTORY = next(h for h in partitioning.HISTORIES if h.table == "analytics_answerfact")


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    partitioning.convert(schema_editor.connection, HISTORY)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    partitioning.revert(schema_editor.connection, HISTORY)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("analytics", "0006_answer_fact_user_question_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
