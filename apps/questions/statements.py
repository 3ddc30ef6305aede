"""The question bank's SQL that does not go through the ORM on every call (apps/core/sql.py says
when that is worth it; docs/benchmark.md has the figures).

- Exam papers (up to 500 questions) are read by querysets compiled once per process
  (:class:`~apps.core.sql.CompiledQuery`): building them with the ORM on every start, render and
  submit cost more than running them, and a model instance per option more again. The querysets
  stay the home of their rules: what "published" means is ``Question.objects.published()``.
- The answer statistics are added by a written-out data-modifying ``WITH`` item
  (:func:`question_stats_sql`), which the learning record embeds in its own one statement and
  :data:`RECORD_QUESTION_STATS` runs on its own: one round trip for any number of questions.

tests/questions/test_statements.py runs each of them beside the ORM expression it stands for.
"""

from __future__ import annotations

import functools

from django.db.models import FilteredRelation, Q

from apps.core import sql
from apps.questions.models import AnswerOption, Question, QuestionMedia

# Samples for compiling: never an id or a constant of the querysets.
_IDS = [-9_000_001]

PUBLISHED_OPTIONS = sql.CompiledQuery(
    lambda *, ids: (
        Question.objects.published()
        .filter(id__any=ids)
        .order_by("id", "options__order", "options__id")
        .values("id", "options__id")
    ),
    ids=_IDS,
)
"""``(id, options__id)`` for each of ``ids`` a candidate may see, options in display order; a
question without options gives one row with ``options__id`` ``None``."""

PAPER_KEY = sql.CompiledQuery(
    lambda *, ids: (
        Question.objects.filter(id__any=ids)
        # The list repeated on the options lets PostgreSQL read them by index (without it, it
        # scans every correct option of the bank).
        .annotate(
            correct=FilteredRelation(
                "options", condition=Q(options__is_correct=True, options__question_id__any=ids)
            )
        )
        .order_by("category__order", "category__name", "id", "correct__id")
        .values("id", "version", "category_id", "category__name", "category__slug", "correct__id")
    ),
    ids=_IDS,
)
"""One row per correct option of each of ``ids`` (one with ``correct__id`` ``None`` for a
question without any), with its version and category, in the paper's category order. Holds
the key."""

DISPLAY_QUESTIONS = sql.CompiledQuery(
    lambda *, ids: (
        Question.objects.filter(id__any=ids)
        .order_by()
        .values("id", "stem", "type", "category__name")
    ),
    ids=_IDS,
)
"""What a candidate sees of each of ``ids`` besides its options and media (no order)."""

DISPLAY_OPTIONS = sql.CompiledQuery(
    lambda *, ids: (
        AnswerOption.objects.filter(question_id__any=ids)
        .order_by("question_id", "order", "id")
        .values("question_id", "id", "text")
    ),
    ids=_IDS,
)
"""The options of ``ids`` in display order, without ``is_correct``."""

DISPLAY_MEDIA = sql.CompiledQuery(
    lambda *, ids: (
        QuestionMedia.objects.filter(question_id__any=ids)
        .order_by("question_id", "order", "id")
        .values("question_id", "url", "kind", "alt_text", "caption")
    ),
    ids=_IDS,
)
"""The media of ``ids`` in display order."""


@functools.cache
def question_stats_sql(*, counts: str, ordered_locks: bool = True) -> str:
    """Adding to the questions' anonymous statistics, as items of a ``WITH`` for a larger
    data-modifying statement: what another app's statement needs from the question bank, kept
    here so that the bank's table and columns are named in one app (the learning record writes
    an answer's facts, its aggregates and these statistics in one statement).

    ``counts`` names a relation of that statement with the columns ``question_id`` (unique),
    ``answered`` and ``correct``, which must be possible counts (``0 <= correct <= answered``).
    Each increment applies to the latest committed row, as an ``F()`` update does. The items are
    named ``question_lock`` and ``question_stats``.

    ``ordered_locks``: the rows are locked in id order before any is updated (the update only
    reaches a row through its lock), so concurrent batches cannot deadlock. A relation of one
    row needs no such step: its update takes the one lock there is to take."""
    table = sql.table(Question)
    update = (
        f"UPDATE {table} AS q SET times_answered = q.times_answered + c.answered, "  # noqa: S608  # nosec B608 # names from _meta and the caller's own relation
        f"times_correct = q.times_correct + c.correct FROM {counts} c"
    )
    if not ordered_locks:
        return f"question_stats AS ({update} WHERE q.id = c.question_id)"
    return (
        f"question_lock AS (SELECT id FROM {table} "  # noqa: S608  # nosec B608 # names from _meta and the caller's own relation
        f"WHERE id IN (SELECT question_id FROM {counts}) ORDER BY id FOR UPDATE), "
        f"question_stats AS ({update} JOIN question_lock l ON l.id = c.question_id "
        "WHERE q.id = c.question_id)"
    )


RECORD_QUESTION_STATS = (
    "WITH question_counts (question_id, answered, correct) AS (SELECT * FROM unnest("  # noqa: S608  # nosec B608 # names from _meta, values are parameters
    "%(question_ids)s::bigint[], %(answered)s::integer[], %(correct)s::integer[])), "
    f"{question_stats_sql(counts='question_counts')} SELECT 1"
)
"""Adds ``answered[i]``/``correct[i]`` to question ``question_ids[i]`` (ids unique, counts
possible), in one statement for any number of questions."""

SERIALISE_IMPORTS = f"SELECT pg_advisory_xact_lock({0x5155455354})"  # "QUEST"
"""Makes question imports take turns until the transaction ends, so that two running at once
cannot both miss each other's stems."""
