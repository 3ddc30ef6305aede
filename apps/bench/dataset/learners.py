"""The bench learners: users with a profile in one of a few timezones, and the probe users
with an exact number of answers each."""

from __future__ import annotations

from apps.bench.constants import BENCH_EMAIL_DOMAIN
from apps.bench.dataset.db import run, statement
from apps.bench.dataset.tiers import Tier

TIMEZONES = (
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


def build_users(tier: Tier, password_hash: str) -> int:
    """Users and profiles. Leaves the temporary table ``bench_user``: one row per bench user
    with its index (probes: -1 .. -4), timezone, skill and number of answers to generate."""
    users = run(
        statement(
            """
            INSERT INTO {user} (password, last_login, is_superuser, email, role,
                                is_email_verified, is_active, is_staff, date_joined)
            SELECT %(hash)s, NULL, false, e.email, 'user', true, true, false,
                   now() - make_interval(days => 370 + e.n %% 30)
            FROM (
                SELECT g AS n,
                       format('bench-u%%s@%%s', lpad(g::text, 6, '0'), %(domain)s) AS email
                FROM generate_series(1, %(users)s) g
                UNION ALL
                SELECT 0, format('bench-probe-%%s@%%s', p, %(domain)s) FROM unnest(%(probes)s) p
            ) e
            ORDER BY e.email
            """
        ),
        {
            "hash": password_hash,
            "domain": BENCH_EMAIL_DOMAIN,
            "users": tier.users,
            "probes": list(tier.probes),
        },
    )
    run(
        statement(
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
            FROM {user} u
            CROSS JOIN LATERAL (
                SELECT CASE WHEN u.email LIKE 'bench-probe-%%'
                            THEN split_part(split_part(u.email, '@', 1), '-', 3)::int END
                           AS probe,
                       CASE WHEN u.email LIKE 'bench-u%%'
                            THEN substr(split_part(u.email, '@', 1), 8)::bigint END AS uidx
            ) p
            CROSS JOIN LATERAL (
                SELECT p.probe,
                       coalesce(p.uidx, -1 - array_position(%(probes)s::int[], p.probe)) AS idx
            ) x
            WHERE u.email LIKE %(like)s
            """
        ),
        {
            "zones": list(TIMEZONES),
            "probes": list(tier.probes),
            "like": f"%@{BENCH_EMAIL_DOMAIN}",
        },
    )
    run("ALTER TABLE bench_user ADD PRIMARY KEY (id)")
    run(
        "UPDATE bench_user SET n = CASE WHEN probe IS NOT NULL THEN probe "
        "ELSE floor(%s * weight / (SELECT sum(weight) FROM bench_user WHERE probe IS NULL)) END",
        [tier.answers],
    )
    run(
        statement(
            """
            INSERT INTO {profile} (user_id, display_name, avatar, timezone,
                                   prefers_explanations, updated_at)
            SELECT id, CASE WHEN probe IS NOT NULL THEN 'Probe ' || probe
                            ELSE 'Bench learner ' || idx END,
                   '', tz, true, now()
            FROM bench_user ORDER BY id
            """
        )
    )
    return users
