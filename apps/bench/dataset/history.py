"""The bench learners' history: practice sessions, their attempts, the learning record's answer
facts, then the aggregates, learner state and the questions' anonymous statistics."""

from __future__ import annotations

from django.conf import settings

from apps.bench.dataset.db import run, scalar, statement, table_name

SESSION_SIZE = 25
# A step through the bank that is coprime with every tier's bank size, so that one learner's
# consecutive answers are distinct questions until the whole bank has been seen.
STRIDE = 7919


def build_history() -> None:
    """Practice sessions of ``SESSION_SIZE`` answers, their attempts and the answer facts.

    A learner with n answers has a history of ``least(365, 3 + n / 20)`` days whose last
    answer is in the last two days (so this week has study time); the sessions are spread
    evenly over it, and a session's answers are 75 s apart. Answer k is bank question
    ``(start + k * STRIDE) mod Q``; it is right with a probability set by the learner's skill
    and a per-category bias. Leaves the temporary table ``bench_answer`` (every answer).
    """
    questions = scalar("SELECT count(*) FROM bench_q")
    run(
        statement(
            """
            CREATE TEMP TABLE bench_answer ON COMMIT DROP AS
            SELECT a.user_id, a.k, a.session_no, a.question_id, a.category_id, a.is_correct,
                   a.time_spent_sec, least(a.time_spent_sec, {cap}) AS counted_time_sec,
                   a.answered_at, (a.answered_at AT TIME ZONE a.tz)::date AS local_date,
                   CASE WHEN a.is_correct THEN key.correct_ids
                        ELSE jsonb_build_array(key.wrong_id) END AS selected_option_ids
            FROM (
                SELECT u.id AS user_id, u.tz, k, k / {size} AS session_no,
                       q.question_id, q.category_id,
                       pg_temp.bench_u(u.idx * 100000000 + k, 31)
                           < least(0.95, greatest(0.05, u.skill
                               + 0.3 * (pg_temp.bench_u(u.idx * 1000 + q.category_id, 32)
                                        - 0.5)))
                           AS is_correct,
                       CASE WHEN pg_temp.bench_u(u.idx * 100000000 + k, 33) < 0.01 THEN 900
                            ELSE 15 + floor(150 * pg_temp.bench_u(u.idx * 100000000 + k, 34))::int
                       END AS time_spent_sec,
                       h.last_at - make_interval(secs =>
                           (h.sessions - 1 - k / {size})::float8 / h.sessions
                               * h.span_days * 86400.0
                           + ({size} - 1 - k % {size}) * 75) AS answered_at
                FROM bench_user u
                CROSS JOIN LATERAL (
                    SELECT now() - make_interval(secs => 1 + pg_temp.bench_u(u.idx, 24)
                                                            * 172800.0) AS last_at,
                           least(365, 3 + u.n / 20)::int AS span_days,
                           greatest(1, ceil(u.n::float8 / {size}))::int AS sessions,
                           floor(pg_temp.bench_u(u.idx, 25) * {questions})::bigint AS start
                ) h
                CROSS JOIN LATERAL generate_series(0, u.n - 1) k
                JOIN bench_q q ON q.idx = (h.start + k * {stride}) % {questions}
            ) a
            JOIN bench_key key ON key.question_id = a.question_id
            """,
            cap=int(settings.ANALYTICS_ANSWER_TIME_CAP_SEC),
            size=SESSION_SIZE,
            questions=questions,
            stride=STRIDE,
        )
    )
    run("CREATE INDEX ON bench_answer (user_id, session_no)")
    run("ANALYZE bench_answer")
    run(
        """
        CREATE TEMP TABLE bench_session ON COMMIT DROP AS
        SELECT nextval(pg_get_serial_sequence(%(sessions)s, 'id')) AS id, s.*
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
        """,
        {"sessions": table_name("practicesession")},
    )
    run(
        statement(
            """
            INSERT INTO {practicesession} (id, seed, config, question_ids, requested_count,
                available_count, answered, correct, time_spent_sec, category_ids, created_at,
                last_activity_at, completed_at, user_id)
            SELECT id, hashint8extended(id, 41) & 4611686018427387903,
                   '{{"categories": [], "subcategories": [], "include_explanations": true,
                     "mode": "all"}}'::jsonb,
                   question_ids, %(size)s, %(questions)s, answered, correct, time_spent_sec,
                   category_ids, started_at - interval '30 seconds', last_at, last_at, user_id
            FROM bench_session ORDER BY id
            """
        ),
        {"size": SESSION_SIZE, "questions": questions},
    )
    run(
        statement(
            """
            INSERT INTO {practiceattempt} (selected_option_ids, is_correct, question_version,
                time_spent_sec, counted_time_sec, answered_at, category_id, question_id,
                session_id)
            SELECT a.selected_option_ids, a.is_correct, 1, a.time_spent_sec, a.counted_time_sec,
                   a.answered_at, a.category_id, a.question_id, s.id
            FROM bench_answer a
            JOIN bench_session s ON s.user_id = a.user_id AND s.session_no = a.session_no
            ORDER BY s.id, a.k
            """
        )
    )
    run(
        statement(
            """
            INSERT INTO {answerfact} (question_id, source, source_id, is_correct,
                time_spent_sec, counted_time_sec, answered_at, local_date, category_id, user_id)
            SELECT a.question_id, 'practice', s.id, a.is_correct, a.time_spent_sec,
                   a.counted_time_sec, a.answered_at, a.local_date, a.category_id, a.user_id
            FROM bench_answer a
            JOIN bench_session s ON s.user_id = a.user_id AND s.session_no = a.session_no
            ORDER BY a.user_id, a.answered_at
            """
        )
    )


def build_aggregates() -> None:
    """The aggregates, by set-based SQL over the facts (verified against the app's rebuild)."""
    run(
        statement(
            """
            INSERT INTO {dailyactivity} (user_id, date, answered, correct, time_spent_sec,
                                         reading_sec)
            SELECT f.user_id, f.local_date, count(*), count(*) FILTER (WHERE f.is_correct),
                   sum(f.counted_time_sec), 0
            FROM {answerfact} f JOIN bench_user u ON u.id = f.user_id
            GROUP BY f.user_id, f.local_date
            """
        )
    )
    run(
        statement(
            """
            INSERT INTO {categoryprogress} (user_id, category_id, answered, correct,
                                            last_practiced_at)
            SELECT f.user_id, f.category_id, count(*), count(*) FILTER (WHERE f.is_correct),
                   max(f.answered_at)
            FROM {answerfact} f JOIN bench_user u ON u.id = f.user_id
            GROUP BY f.user_id, f.category_id
            """
        )
    )
    run(
        statement(
            "INSERT INTO {learnerstate} (user_id, last_heartbeat_at, touched_at) "
            "SELECT id, NULL, now() FROM bench_user WHERE n > 0"
        )
    )
    run(
        statement(
            """
            UPDATE {question} q SET times_answered = s.answered, times_correct = s.correct
            FROM (SELECT question_id, count(*) AS answered,
                         count(*) FILTER (WHERE is_correct) AS correct
                  FROM bench_answer GROUP BY question_id) s
            WHERE q.id = s.question_id
            """
        )
    )
