"""Full-text search on question stems: a GIN index on the same expression the selector uses
(``SearchVector("stem", config="english")``). The index is not part of the model state, so
``makemigrations`` never sees it."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "question_stem_search"


def _index() -> GinIndex:
    return GinIndex(SearchVector("stem", config="english"), name=INDEX_NAME)


class AddSearchIndexOnPostgres(migrations.operations.base.Operation):
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, "Question")
        schema_editor.add_index(model, _index())

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, "Question")
        schema_editor.remove_index(model, _index())

    def describe(self):
        return "Add a GIN full-text index on Question.stem"


class Migration(migrations.Migration):
    dependencies = [("questions", "0002_import_job")]

    operations = [AddSearchIndexOnPostgres()]
