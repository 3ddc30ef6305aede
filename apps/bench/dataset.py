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
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from psycopg import ClientCursor

from apps.accounts.models import User
from apps.analytics.services import recompute_aggregates
from apps.bench.constants import (
    BENCH_EMAIL_DOMAIN,
    BENCH_EXAM_QUESTIONS,
    BENCH_EXAM_TEMPLATE,
    BENCH_PASSWORD,
    BENCH_REFERENCE,
    PROBE_ANSWERS,
    probe_email,
)
from apps.exams.models import ExamTemplate, ExamTemplateQuestion, TemplateKind
from apps.questions.models import Question
from apps.questions.normalisation import stem_fingerprint
from apps.taxonomy.models import Category

SESSION_SIZE = 25
# A step through the bank that is coprime with every tier's bank size, so that one learner's
# consecutive answers are distinct questions until the whole bank has been seen.
_STRIDE = 7919
_TIMEZONES = (
    "Europe/London",
    "UTC",
    "Asia/Kolkata",
    "Asia/Karachi",
    "Africa/Lagos",
    "Asia/Dubai",
    "Australia/Sydney",
    "America/New_York",
    "Asia/Singapore",
    "Africa/Cairo",
)

# Tables the dataset writes, for the row counts and sizes report.
REPORTED_TABLES = (
    "accounts_user",
    "accounts_profile",
    "questions_question",
    "questions_answeroption",
    "practice_practicesession",
    "practice_practiceattempt",
    "analytics_answerfact",
    "analytics_dailyactivity",
    "analytics_categoryprogress",
    "analytics_learnerstate",
    "exams_examsession",
    "exams_examanswer",
)


@dataclass(frozen=True)
class Tier:
    name: str
    questions: int
    users: int
    answers: int  # spread over the regular users; the probes come on top
    probes: tuple[int, ...] = PROBE_ANSWERS  # one probe user with exactly this many answers each


TIERS = {
    # XS: for the dataset's own tests and smoke runs (``make bench`` needs S or M: its probes).
    "XS": Tier(name="XS", questions=300, users=30, answers=3_000, probes=(100, 1_000)),
    "S": Tier(name="S", questions=8_000, users=2_000, answers=200_000),
    "M": Tier(name="M", questions=20_000, users=50_000, answers=10_000_000),
}


class BenchDataError(Exception):
    """The dataset cannot be built as asked (message says why and what to do)."""


@dataclass
class BuildReport:
    tier: str
    seed: int
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    verified_learners: int = 0
    exam_template_id: int | None = None


def bench_users() -> Any:
    return User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}")


def dataset_exists() -> bool:
    return (
        bench_users().exists()
        or Question.objects.filter(reference=BENCH_REFERENCE, is_synthetic=True).exists()
        or ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE).exists()
    )


def _cursor() -> ClientCursor[Any]:
    """A cursor that binds parameters on the client: the generator's statements pass untyped
    values in select lists (``SELECT %(hash)s, ...``), which server-side binding (the
    application's setting, config/settings/base.py) cannot type."""
    connection.ensure_connection()
    return ClientCursor(connection.connection)


def _sql(statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> int:
    with _cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _scalar(statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
    with _cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    return row[0] if row else None


# --- Wiping ------------------------------------------------------------------------------------


def wipe_dataset(*, log: Callable[[str], None] = print) -> dict[str, int]:
    """Deletes every bench user (with everything they own), the bench exam template and the
    bench questions. The large tables are emptied with set-based SQL first, so that the ORM
    delete that follows (which knows every other table pointing at users) has little left."""
    removed: dict[str, int] = {}
    with transaction.atomic():
        _sql(
            "CREATE TEMP TABLE bench_wipe_user ON COMMIT DROP AS "
            "SELECT id FROM accounts_user WHERE email LIKE %s",
            [f"%@{BENCH_EMAIL_DOMAIN}"],
        )
        _sql("ALTER TABLE bench_wipe_user ADD PRIMARY KEY (id)")
        by_user = (
            "analytics_answerfact",
            "analytics_dailyactivity",
            "analytics_categoryprogress",
            "analytics_heartbeatlog",
            "analytics_learnerstate",
        )
        for table in by_user:
            removed[table] = _sql(
                f"DELETE FROM {table} WHERE user_id IN (SELECT id FROM bench_wipe_user)"  # noqa: S608  # nosec B608
            )
        removed["practice_practiceattempt"] = _sql(
            "DELETE FROM practice_practiceattempt WHERE session_id IN (SELECT s.id FROM "
            "practice_practicesession s JOIN bench_wipe_user u ON u.id = s.user_id)"
        )
        removed["practice_practicesession"] = _sql(
            "DELETE FROM practice_practicesession WHERE user_id IN (SELECT id FROM bench_wipe_user)"
        )
        removed["exams_examanswer"] = _sql(
            "DELETE FROM exams_examanswer WHERE session_id IN (SELECT s.id FROM "
            "exams_examsession s JOIN bench_wipe_user u ON u.id = s.user_id)"
        )
        removed["exams_examsession"] = _sql(
            "DELETE FROM exams_examsession WHERE user_id IN (SELECT id FROM bench_wipe_user)"
        )
        deleted, _ = bench_users().delete()
        removed["users and what remained of theirs"] = deleted
        templates = ExamTemplate.objects.filter(name=BENCH_EXAM_TEMPLATE)
        if templates.filter(sessions__isnull=False).exists():
            raise BenchDataError(
                f"Users outside the bench dataset sat {BENCH_EXAM_TEMPLATE!r}; delete their "
                "sessions (or use a fresh bench database) before wiping."
            )
        removed["exams_examtemplate"], _ = templates.delete()
        _sql(
            "CREATE TEMP TABLE bench_wipe_question ON COMMIT DROP AS SELECT id FROM "
            "questions_question WHERE reference = %s AND is_synthetic",
            [BENCH_REFERENCE],
        )
        in_use = _scalar(
            "SELECT (SELECT count(*) FROM practice_practiceattempt WHERE question_id IN "
            "(SELECT id FROM bench_wipe_question)) + (SELECT count(*) FROM exams_examanswer "
            "WHERE question_id IN (SELECT id FROM bench_wipe_question)) + (SELECT count(*) FROM "
            "exams_examtemplatequestion WHERE question_id IN (SELECT id FROM bench_wipe_question))"
        )
        if in_use:
            raise BenchDataError(
                "Bench questions were answered by users outside the bench dataset (or are on an "
                "exam template); use a fresh bench database."
            )
        for table, column in (
            ("questions_answeroption", "question_id"),
            ("questions_questionmedia", "question_id"),
            ("questions_question_tags", "question_id"),
            ("practice_questionflag", "question_id"),
            ("practice_questionreport", "question_id"),
        ):
            _sql(
                f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM bench_wipe_question)"  # noqa: S608  # nosec B608
            )
        removed["questions_question"] = _sql(
            "DELETE FROM questions_question WHERE id IN (SELECT id FROM bench_wipe_question)"
        )
    for name, count in removed.items():
        log(f"  wiped {name}: {count}")
    return removed


# --- Building ----------------------------------------------------------------------------------


def _install_helpers(seed: int) -> None:
    """Session-private SQL helpers: ``pg_temp.bench_u(x, salt)`` is a uniform number in [0, 1)
    that depends only on ``x``, ``salt`` and the seed."""
    _sql(
        "CREATE OR REPLACE FUNCTION pg_temp.bench_u(x bigint, salt bigint) RETURNS float8 "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        f"SELECT (hashint8extended(x, {int(seed)} * 1000 + salt) & 2147483647)::float8 "
        "/ 2147483648.0 $$"
    )


def _build_questions(tier: Tier) -> int:
    categories = _scalar("SELECT count(*) FROM taxonomy_category WHERE is_active")
    if not categories:
        raise BenchDataError(
            "There are no active categories: run `manage.py seed` first (the syllabus)."
        )
    _sql(
        "CREATE TEMP TABLE bench_cat ON COMMIT DROP AS "
        'SELECT row_number() OVER (ORDER BY c."order", c.name, c.id) - 1 AS idx, c.id, c.slug, '
        '(SELECT array_agg(s.id ORDER BY s."order", s.name, s.id) FROM taxonomy_subcategory s '
        "  WHERE s.category_id = c.id AND s.is_active) AS subs "
        "FROM taxonomy_category c WHERE c.is_active"
    )
    # The stem is written so that its fingerprint is easy to compute in SQL: lower case, every
    # character but letters, digits and spaces replaced by a space, spaces collapsed
    # (apps.questions.normalisation; checked on a sample below).
    inserted = _sql(
        """
        INSERT INTO questions_question (
            stem, stem_normalised, type, category_id, subcategory_id, difficulty, explanation,
            reference, status, version, is_synthetic, times_answered, times_correct,
            created_at, updated_at)
        SELECT q.stem,
               encode(sha256(convert_to(trim(regexp_replace(regexp_replace(lower(q.stem),
                   '[^a-z0-9\\s]', ' ', 'g'), '\\s+', ' ', 'g')), 'UTF8')), 'hex'),
               q.type, q.category_id, q.subcategory_id, q.difficulty,
               'Bench explanation for item ' || q.g || ': the keyed option follows from the '
                   || 'stem; distractors are plausible but wrong.',
               %(reference)s, 'published', 1, true, 0, 0, now(), now()
        FROM (
            SELECT g,
                   format('Bench item %%s (%%s): a %%s-year-old presents with finding %%s. '
                          'Which of the following is the most likely explanation?',
                          g, c.slug, 18 + (g %% 70), g %% 997) AS stem,
                   CASE WHEN pg_temp.bench_u(g, 11) < 0.1 THEN 'multi' ELSE 'single' END AS type,
                   c.id AS category_id,
                   c.subs[1 + ((g / %(ncat)s) %% greatest(coalesce(cardinality(c.subs), 1), 1))]
                       AS subcategory_id,
                   1 + floor(pg_temp.bench_u(g, 12) * 5)::int AS difficulty
            FROM generate_series(1, %(n)s) g
            JOIN bench_cat c ON c.idx = g %% %(ncat)s
        ) q
        ORDER BY q.g
        """,
        {"reference": BENCH_REFERENCE, "ncat": categories, "n": tier.questions},
    )
    _sql(
        "CREATE TEMP TABLE bench_q ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id AS question_id, category_id, type "
        "FROM questions_question WHERE reference = %s AND is_synthetic",
        [BENCH_REFERENCE],
    )
    _sql("ALTER TABLE bench_q ADD PRIMARY KEY (idx)")
    # Five options; the keyed one(s) depend on the question.
    _sql(
        """
        INSERT INTO questions_answeroption (question_id, text, is_correct, "order")
        SELECT q.question_id,
               format('Option %s of bench item %s', chr(65 + k), q.idx + 1),
               k = c.key OR (q.type = 'multi' AND k = (c.key + 2) % 5),
               k
        FROM bench_q q
        CROSS JOIN LATERAL (SELECT floor(pg_temp.bench_u(q.idx, 13) * 5)::int AS key) c
        CROSS JOIN generate_series(0, 4) k
        ORDER BY q.question_id, k
        """
    )
    _sql(
        "CREATE TEMP TABLE bench_key ON COMMIT DROP AS "
        "SELECT question_id, "
        "  jsonb_agg(id ORDER BY id) FILTER (WHERE is_correct) AS correct_ids, "
        "  min(id) FILTER (WHERE NOT is_correct) AS wrong_id "
        "FROM questions_answeroption WHERE question_id IN (SELECT question_id FROM bench_q) "
        "GROUP BY question_id"
    )
    _sql("ALTER TABLE bench_key ADD PRIMARY KEY (question_id)")
    sample = Question.objects.filter(reference=BENCH_REFERENCE).order_by("id")[:25]
    for question in sample:
        if stem_fingerprint(question.stem) != question.stem_normalised:
            raise BenchDataError(f"stem fingerprint mismatch on question {question.pk}")
    return inserted


def _build_users(tier: Tier, password_hash: str) -> int:
    users = _sql(
        """
        INSERT INTO accounts_user (password, last_login, is_superuser, email, role,
                                   is_email_verified, is_active, is_staff, date_joined)
        SELECT %(hash)s, NULL, false, e.email, 'user', true, true, false,
               now() - make_interval(days => 370 + e.n %% 30)
        FROM (
            SELECT g AS n, format('bench-u%%s@%%s', lpad(g::text, 6, '0'), %(domain)s) AS email
            FROM generate_series(1, %(users)s) g
            UNION ALL
            SELECT 0, format('bench-probe-%%s@%%s', p, %(domain)s) FROM unnest(%(probes)s) p
        ) e
        ORDER BY e.email
        """,
        {
            "hash": password_hash,
            "domain": BENCH_EMAIL_DOMAIN,
            "users": tier.users,
            "probes": list(tier.probes),
        },
    )
    # One row per bench user: its index (probes: -1 .. -4), timezone, skill and answer count.
    _sql(
        """
        CREATE TEMP TABLE bench_user ON COMMIT DROP AS
        SELECT u.id, x.idx, x.probe,
               CASE WHEN x.probe IS NOT NULL THEN 'Europe/London'
                    ELSE (%(zones)s::text[])[1 + floor(pg_temp.bench_u(x.idx, 21)
                                                     * cardinality(%(zones)s::text[]))::int]
               END AS tz,
               0.45 + 0.4 * pg_temp.bench_u(x.idx, 22) AS skill,
               1 + 9 * power(pg_temp.bench_u(x.idx, 23), 3) AS weight,
               0::bigint AS n
        FROM accounts_user u
        CROSS JOIN LATERAL (
            SELECT CASE WHEN u.email LIKE 'bench-probe-%%'
                        THEN split_part(split_part(u.email, '@', 1), '-', 3)::int END AS probe,
                   CASE WHEN u.email LIKE 'bench-u%%'
                        THEN substr(split_part(u.email, '@', 1), 8)::bigint END AS uidx
        ) p
        CROSS JOIN LATERAL (
            SELECT p.probe,
                   coalesce(p.uidx, -1 - array_position(%(probes)s::int[], p.probe)) AS idx
        ) x
        WHERE u.email LIKE %(like)s
        """,
        {
            "zones": list(_TIMEZONES),
            "probes": list(tier.probes),
            "like": f"%@{BENCH_EMAIL_DOMAIN}",
        },
    )
    _sql("ALTER TABLE bench_user ADD PRIMARY KEY (id)")
    _sql(
        "UPDATE bench_user SET n = CASE WHEN probe IS NOT NULL THEN probe "
        "ELSE floor(%s * weight / (SELECT sum(weight) FROM bench_user WHERE probe IS NULL)) END",
        [tier.answers],
    )
    _sql(
        """
        INSERT INTO accounts_profile (user_id, display_name, avatar, timezone,
                                      prefers_explanations, updated_at)
        SELECT id, CASE WHEN probe IS NOT NULL THEN 'Probe ' || probe
                        ELSE 'Bench learner ' || idx END,
               '', tz, true, now()
        FROM bench_user ORDER BY id
        """
    )
    return users


def _build_history(tier: Tier) -> None:
    """Practice sessions of ``SESSION_SIZE`` answers, their attempts and the answer facts.

    A learner with n answers has a history of ``least(365, 3 + n / 20)`` days whose last
    answer is in the last two days (so this week has study time); the sessions are spread
    evenly over it, and a session's answers are 75 s apart. Answer k is bank question
    ``(start + k * STRIDE) mod Q``; it is right with a probability set by the learner's skill
    and a per-category bias.
    """
    questions = _scalar("SELECT count(*) FROM bench_q")
    cap = int(settings.ANALYTICS_ANSWER_TIME_CAP_SEC)
    _sql(
        f"""
        CREATE TEMP TABLE bench_answer ON COMMIT DROP AS
        SELECT a.user_id, a.k, a.session_no, a.question_id, a.category_id, a.is_correct,
               a.time_spent_sec, least(a.time_spent_sec, {cap}) AS counted_time_sec,
               a.answered_at, (a.answered_at AT TIME ZONE a.tz)::date AS local_date,
               CASE WHEN a.is_correct THEN key.correct_ids
                    ELSE jsonb_build_array(key.wrong_id) END AS selected_option_ids
        FROM (
            SELECT u.id AS user_id, u.tz, k, k / {SESSION_SIZE} AS session_no,
                   q.question_id, q.category_id,
                   pg_temp.bench_u(u.idx * 100000000 + k, 31)
                       < least(0.95, greatest(0.05, u.skill
                           + 0.3 * (pg_temp.bench_u(u.idx * 1000 + q.category_id, 32) - 0.5)))
                       AS is_correct,
                   CASE WHEN pg_temp.bench_u(u.idx * 100000000 + k, 33) < 0.01 THEN 900
                        ELSE 15 + floor(150 * pg_temp.bench_u(u.idx * 100000000 + k, 34))::int
                   END AS time_spent_sec,
                   h.last_at - make_interval(secs =>
                       (h.sessions - 1 - k / {SESSION_SIZE})::float8 / h.sessions
                           * h.span_days * 86400.0
                       + ({SESSION_SIZE} - 1 - k % {SESSION_SIZE}) * 75) AS answered_at
            FROM bench_user u
            CROSS JOIN LATERAL (
                SELECT now() - make_interval(secs => 1 + pg_temp.bench_u(u.idx, 24) * 172800.0)
                           AS last_at,
                       least(365, 3 + u.n / 20)::int AS span_days,
                       greatest(1, ceil(u.n::float8 / {SESSION_SIZE}))::int AS sessions,
                       floor(pg_temp.bench_u(u.idx, 25) * {questions})::bigint AS start
            ) h
            CROSS JOIN LATERAL generate_series(0, u.n - 1) k
            JOIN bench_q q ON q.idx = (h.start + k * {_STRIDE}) % {questions}
        ) a
        JOIN bench_key key ON key.question_id = a.question_id
        """  # noqa: S608 - only integers are interpolated  # nosec B608
    )
    _sql("CREATE INDEX ON bench_answer (user_id, session_no)")
    _sql("ANALYZE bench_answer")
    _sql(
        """
        CREATE TEMP TABLE bench_session ON COMMIT DROP AS
        SELECT nextval(pg_get_serial_sequence('practice_practicesession', 'id')) AS id, s.*
        FROM (
            SELECT a.user_id, a.session_no, count(*) AS answered,
                   count(*) FILTER (WHERE a.is_correct) AS correct,
                   sum(a.counted_time_sec) AS time_spent_sec,
                   min(a.answered_at) AS started_at, max(a.answered_at) AS last_at,
                   jsonb_agg(a.question_id ORDER BY a.k) AS question_ids,
                   (SELECT jsonb_agg(c.category_id ORDER BY c.first_k) FROM (
                        SELECT b.category_id, min(b.k) AS first_k FROM bench_answer b
                        WHERE b.user_id = a.user_id AND b.session_no = a.session_no
                        GROUP BY b.category_id) c) AS category_ids
            FROM bench_answer a
            GROUP BY a.user_id, a.session_no
            ORDER BY a.user_id, a.session_no
        ) s
        """
    )
    _sql(
        """
        INSERT INTO practice_practicesession (id, seed, config, question_ids, requested_count,
            available_count, answered, correct, time_spent_sec, category_ids, created_at,
            last_activity_at, completed_at, user_id)
        SELECT id, hashint8extended(id, 41) & 4611686018427387903,
               '{"categories": [], "subcategories": [], "include_explanations": true,
                 "mode": "all"}'::jsonb,
               question_ids, %(size)s, %(questions)s, answered, correct, time_spent_sec,
               category_ids, started_at - interval '30 seconds', last_at, last_at, user_id
        FROM bench_session ORDER BY id
        """,
        {"size": SESSION_SIZE, "questions": questions},
    )
    _sql(
        """
        INSERT INTO practice_practiceattempt (selected_option_ids, is_correct, question_version,
            time_spent_sec, counted_time_sec, answered_at, category_id, question_id, session_id)
        SELECT a.selected_option_ids, a.is_correct, 1, a.time_spent_sec, a.counted_time_sec,
               a.answered_at, a.category_id, a.question_id, s.id
        FROM bench_answer a
        JOIN bench_session s ON s.user_id = a.user_id AND s.session_no = a.session_no
        ORDER BY s.id, a.k
        """
    )
    _sql(
        """
        INSERT INTO analytics_answerfact (question_id, source, source_id, is_correct,
            time_spent_sec, counted_time_sec, answered_at, local_date, category_id, user_id)
        SELECT a.question_id, 'practice', s.id, a.is_correct, a.time_spent_sec,
               a.counted_time_sec, a.answered_at, a.local_date, a.category_id, a.user_id
        FROM bench_answer a
        JOIN bench_session s ON s.user_id = a.user_id AND s.session_no = a.session_no
        ORDER BY a.user_id, a.answered_at
        """
    )


def _build_aggregates() -> None:
    """The aggregates, by set-based SQL over the facts (verified against the app's rebuild)."""
    _sql(
        """
        INSERT INTO analytics_dailyactivity (user_id, date, answered, correct, time_spent_sec,
                                             reading_sec)
        SELECT f.user_id, f.local_date, count(*), count(*) FILTER (WHERE f.is_correct),
               sum(f.counted_time_sec), 0
        FROM analytics_answerfact f JOIN bench_user u ON u.id = f.user_id
        GROUP BY f.user_id, f.local_date
        """
    )
    _sql(
        """
        INSERT INTO analytics_categoryprogress (user_id, category_id, answered, correct,
                                                last_practiced_at)
        SELECT f.user_id, f.category_id, count(*), count(*) FILTER (WHERE f.is_correct),
               max(f.answered_at)
        FROM analytics_answerfact f JOIN bench_user u ON u.id = f.user_id
        GROUP BY f.user_id, f.category_id
        """
    )
    _sql(
        "INSERT INTO analytics_learnerstate (user_id, last_heartbeat_at, touched_at) "
        "SELECT id, NULL, now() FROM bench_user WHERE n > 0"
    )
    _sql(
        """
        UPDATE questions_question q SET times_answered = s.answered, times_correct = s.correct
        FROM (SELECT question_id, count(*) AS answered,
                     count(*) FILTER (WHERE is_correct) AS correct
              FROM bench_answer GROUP BY question_id) s
        WHERE q.id = s.question_id
        """
    )


def _build_exam_template() -> int:
    template = ExamTemplate.objects.create(
        name=BENCH_EXAM_TEMPLATE,
        paper=1,
        duration_minutes=600,
        total_questions=BENCH_EXAM_QUESTIONS,
        description="Benchmark template: 180 bench questions in a fixed order.",
        is_active=True,
        kind=TemplateKind.FIXED,
        shuffle_questions=False,
    )
    questions = _scalar("SELECT count(*) FROM bench_q")
    step = max(1, questions // BENCH_EXAM_QUESTIONS)
    ids = [
        row[0]
        for row in _rows(
            "SELECT question_id FROM bench_q WHERE idx %% %s = 0 ORDER BY idx LIMIT %s",
            [step, BENCH_EXAM_QUESTIONS],
        )
    ]
    ExamTemplateQuestion.objects.bulk_create(
        ExamTemplateQuestion(template=template, question_id=qid, order=i)
        for i, qid in enumerate(ids)
    )
    return template.pk


def _rows(statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with _cursor() as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()]


def verify_aggregates(*, user_ids: Sequence[int]) -> int:
    """Runs the analytics app's own rebuild for these learners; it must change nothing."""
    report = recompute_aggregates(user_ids=list(user_ids))
    if report.changed:
        raise BenchDataError(
            f"The generated aggregates differ from the analytics rebuild: {report.created} "
            f"created, {report.updated} updated, {report.deleted} deleted "
            f"(over {report.learners} learners)."
        )
    return report.learners


def build_dataset(
    *,
    tier: Tier,
    seed: int,
    verify_sample: int | None,
    log: Callable[[str], None] = print,
) -> BuildReport:
    """Builds the dataset in one transaction. ``verify_sample``: how many learners (besides
    the probes) to check against the analytics rebuild; ``None`` checks every one."""
    if connection.vendor != "postgresql":
        raise BenchDataError("The bench dataset is generated by PostgreSQL: set DATABASE_URL.")
    if dataset_exists():
        raise BenchDataError("A bench dataset exists already: pass --wipe to replace it.")
    report = BuildReport(tier=tier.name, seed=seed)

    def step(name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        report.timings[name] = round(time.perf_counter() - started, 2)
        log(f"  {name}: {report.timings[name]:.2f} s")
        return result

    # One hash for every bench user (PBKDF2 is deliberately slow); a fixed salt keeps it
    # reproducible from the seed.
    password_hash = make_password(BENCH_PASSWORD, salt=f"bench{seed}salt")
    with transaction.atomic():
        _sql("SET LOCAL work_mem = '64MB'")
        _install_helpers(seed)
        step("questions and options", lambda: _build_questions(tier))
        step("users and profiles", lambda: _build_users(tier, password_hash))
        step("practice sessions, attempts, answer facts", lambda: _build_history(tier))
        step("aggregates (SQL)", _build_aggregates)
        report.exam_template_id = step("exam template", _build_exam_template)
        probes = _rows("SELECT id, probe FROM bench_user WHERE probe IS NOT NULL ORDER BY probe")
        others = [r[0] for r in _rows("SELECT id FROM bench_user WHERE probe IS NULL ORDER BY id")]
    # Statistics and the visibility map, as a database in steady use would have them (and the
    # space of a wiped dataset made reusable).
    step("vacuum analyze", lambda: [_sql(f"VACUUM (ANALYZE) {t}") for t in REPORTED_TABLES])
    rng = random.Random(seed)  # nosec B311 # reproducible sample
    sample = (
        others if verify_sample is None else rng.sample(others, min(verify_sample, len(others)))
    )
    learners = [pid for pid, _ in probes] + sorted(sample)
    report.verified_learners = step(
        "verify aggregates (analytics rebuild)", lambda: verify_aggregates(user_ids=learners)
    )
    report.probes = [
        {"answers": n, "user_id": pid, "email": probe_email(n), "password": BENCH_PASSWORD}
        for pid, n in probes
    ]
    report.counts = bench_counts()
    return report


def bench_counts() -> dict[str, int]:
    """Rows of the bench dataset per table (whole tables for the per-learner ones)."""
    like = f"%@{BENCH_EMAIL_DOMAIN}"
    return {
        "bench users": bench_users().count(),
        "bench questions": Question.objects.filter(reference=BENCH_REFERENCE).count(),
        "bench answer facts": int(
            _scalar(
                "SELECT count(*) FROM analytics_answerfact f JOIN accounts_user u "
                "ON u.id = f.user_id WHERE u.email LIKE %s",
                [like],
            )
        ),
        "categories (active)": Category.objects.filter(is_active=True).count(),
    }


def table_report() -> list[tuple[str, int, int]]:
    """``(table, rows, total bytes with indexes and TOAST)`` for the dataset's tables."""
    return [
        (
            table,
            int(_scalar(f"SELECT count(*) FROM {table}")),  # noqa: S608 - a fixed table name  # nosec B608
            int(_scalar("SELECT pg_total_relation_size(%s::regclass)", [table])),
        )
        for table in REPORTED_TABLES
    ]
