"""The bench question bank (questions, their options) and the fixed bench exam template."""

from __future__ import annotations

from apps.bench.constants import BENCH_EXAM_QUESTIONS, BENCH_EXAM_TEMPLATE, BENCH_REFERENCE
from apps.bench.dataset.db import rows, run, scalar, statement
from apps.bench.dataset.tiers import BenchDataError, Tier
from apps.exams.models import ExamTemplate, ExamTemplateQuestion, TemplateKind
from apps.questions.models import Question
from apps.questions.normalisation import stem_fingerprint


def build_questions(tier: Tier) -> int:
    """Published multiple-choice questions over the active categories (and subcategories),
    five options each; one in ten is multiple-response with two keyed options. Leaves the
    temporary tables ``bench_q`` (bank index -> question) and ``bench_key`` (keyed and wrong
    option ids) for the history."""
    categories = scalar(statement("SELECT count(*) FROM {category} WHERE is_active"))
    if not categories:
        raise BenchDataError(
            "There are no active categories: run `manage.py seed` first (the syllabus)."
        )
    run(
        statement(
            "CREATE TEMP TABLE bench_cat ON COMMIT DROP AS "
            'SELECT row_number() OVER (ORDER BY c."order", c.name, c.id) - 1 AS idx, c.id, '
            'c.slug, (SELECT array_agg(s.id ORDER BY s."order", s.name, s.id) FROM {subcategory} '
            "s WHERE s.category_id = c.id AND s.is_active) AS subs "
            "FROM {category} c WHERE c.is_active"
        )
    )
    # The stem is written so that its fingerprint is easy to compute in SQL: lower case, every
    # character but letters, digits and spaces replaced by a space, spaces collapsed
    # (apps.questions.normalisation; checked on a sample below).
    inserted = run(
        statement(
            """
            INSERT INTO {question} (
                stem, stem_normalised, type, category_id, subcategory_id, difficulty,
                explanation, reference, status, version, is_synthetic, times_answered,
                times_correct, created_at, updated_at)
            SELECT q.stem,
                   encode(sha256(convert_to(trim(regexp_replace(regexp_replace(lower(q.stem),
                       '[^a-z0-9\\s]', ' ', 'g'), '\\s+', ' ', 'g')), 'UTF8')), 'hex'),
                   q.type, q.category_id, q.subcategory_id, q.difficulty,
                   'Bench explanation for item ' || q.g || ': the keyed option follows from '
                       || 'the stem; distractors are plausible but wrong.',
                   %(reference)s, 'published', 1, true, 0, 0, now(), now()
            FROM (
                SELECT g,
                       format('Bench item %%s (%%s): a %%s-year-old presents with finding %%s. '
                              'Which of the following is the most likely explanation?',
                              g, c.slug, 18 + (g %% 70), g %% 997) AS stem,
                       CASE WHEN pg_temp.bench_u(g, 11) < 0.1 THEN 'multi' ELSE 'single' END
                           AS type,
                       c.id AS category_id,
                       c.subs[1 + ((g / %(ncat)s)
                                   %% greatest(coalesce(cardinality(c.subs), 1), 1))]
                           AS subcategory_id,
                       1 + floor(pg_temp.bench_u(g, 12) * 5)::int AS difficulty
                FROM generate_series(1, %(n)s) g
                JOIN bench_cat c ON c.idx = g %% %(ncat)s
            ) q
            ORDER BY q.g
            """
        ),
        {"reference": BENCH_REFERENCE, "ncat": categories, "n": tier.questions},
    )
    run(
        statement(
            "CREATE TEMP TABLE bench_q ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id AS question_id, category_id, "
            "type FROM {question} WHERE reference = %s AND is_synthetic"
        ),
        [BENCH_REFERENCE],
    )
    run("ALTER TABLE bench_q ADD PRIMARY KEY (idx)")
    # Five options; the keyed one(s) depend on the question.
    run(
        statement(
            """
            INSERT INTO {answeroption} (question_id, text, is_correct, "order")
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
    )
    run(
        statement(
            "CREATE TEMP TABLE bench_key ON COMMIT DROP AS "
            "SELECT question_id, "
            "  jsonb_agg(id ORDER BY id) FILTER (WHERE is_correct) AS correct_ids, "
            "  min(id) FILTER (WHERE NOT is_correct) AS wrong_id "
            "FROM {answeroption} WHERE question_id IN (SELECT question_id FROM bench_q) "
            "GROUP BY question_id"
        )
    )
    run("ALTER TABLE bench_key ADD PRIMARY KEY (question_id)")
    sample = Question.objects.filter(reference=BENCH_REFERENCE).order_by("id")[:25]
    for question in sample:
        if stem_fingerprint(question.stem) != question.stem_normalised:
            raise BenchDataError(f"stem fingerprint mismatch on question {question.pk}")
    return inserted


def build_exam_template() -> int:
    """The fixed template of ``BENCH_EXAM_QUESTIONS`` bench questions spread over the bank."""
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
    questions = scalar("SELECT count(*) FROM bench_q")
    step = max(1, questions // BENCH_EXAM_QUESTIONS)
    ids = [
        row[0]
        for row in rows(
            "SELECT question_id FROM bench_q WHERE idx %% %s = 0 ORDER BY idx LIMIT %s",
            [step, BENCH_EXAM_QUESTIONS],
        )
    ]
    ExamTemplateQuestion.objects.bulk_create(
        ExamTemplateQuestion(template=template, question_id=qid, order=i)
        for i, qid in enumerate(ids)
    )
    return template.pk
