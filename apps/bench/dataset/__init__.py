"""The benchmark dataset (``manage.py bench_data``): a seeded, reproducible bank, learners and
learning history at a realistic scale, generated inside PostgreSQL.

Rows are produced by ``INSERT ... SELECT`` over ``generate_series``, never one ORM call per row,
and every "random" choice is a hash of the row's coordinates and the seed
(``hashint8extended``), so the same seed gives the same data whatever the plan or the order of
execution. Timestamps are relative to the moment of generation.

What is generated (everything marked, so that it can be found and wiped):

- questions: ``Question.is_synthetic`` and ``reference = BENCH_REFERENCE``, published, spread
  over the existing active categories (and their subcategories), 5 options each; one in ten
  is a multiple-response question with two correct options;
- learners: users ``bench-u000001@bench.openmrcs.local`` ... with a profile in one of a few
  timezones, plus the probe users ``bench-probe-<n>@bench.openmrcs.local`` with exactly n
  answers each; every bench user has the password ``BENCH_PASSWORD``;
- history: practice sessions of 25 answers with their attempts and, for each attempt, the
  learning record's ``AnswerFact``; then the aggregates (``DailyActivity``,
  ``CategoryProgress``), the learner state rows and the questions' anonymous statistics, built
  by SQL and *verified* equal to the analytics app's own rebuild
  (``apps.analytics.services.recompute_aggregates`` must change nothing) on a sample;
- one fixed exam template of 180 bench questions (``BENCH_EXAM_TEMPLATE``).

The package, by responsibility: ``db`` (table names from the models, client-side binding),
``tiers`` (sizes and report), ``bank`` (questions, options, exam template), ``learners``,
``history`` (sessions, attempts, facts, aggregates), ``build`` (the transaction, the checks,
the report) and ``wipe``.
"""

from apps.bench.dataset.build import (
    BUILD_STEPS,
    bench_counts,
    build_dataset,
    table_report,
    verify_aggregates,
)
from apps.bench.dataset.tiers import TIERS, BenchDataError, BuildReport, Tier
from apps.bench.dataset.wipe import bench_users, dataset_exists, wipe_dataset

__all__ = [
    "BUILD_STEPS",
    "TIERS",
    "BenchDataError",
    "BuildReport",
    "Tier",
    "bench_counts",
    "bench_users",
    "build_dataset",
    "dataset_exists",
    "table_report",
    "verify_aggregates",
    "wipe_dataset",
]
