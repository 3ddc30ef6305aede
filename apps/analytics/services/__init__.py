"""The learning record: every answered question, the aggregates derived from it, and reading
time.

- ``record_answers`` is the one service that records answered questions (practice and exams
  publish them through ``apps.questions.learning``; the receiver is registered in
  ``AnalyticsConfig.ready``). In the publisher's transaction it writes one ``AnswerFact`` per
  answer, adds to the learner's ``DailyActivity`` (the day in the learner's timezone) and
  ``CategoryProgress`` with atomic increments, adds to the questions' anonymous statistics
  (with the fragment questions owns, ``apps.questions.statements.question_stats_sql``), and
  after commit deletes the learner's cached dashboard: one statement per batch, however many
  answers (``apps.analytics.statements``; two the first time a process meets the learner).
- ``record_heartbeat`` credits bounded reading time (see its docstring).
- ``recompute_aggregates`` rebuilds every aggregate from the raw record exactly; nightly by Beat
  (``analytics.recompute_aggregates``) and by ``manage.py recompute_aggregates``.
- Study time = the counted (capped) answer times + the credited reading time.

The last practice and last exam shown on the dashboard are *not* copied here: their scores are
owned by practice and exams (an exam's score counts unanswered questions, its time is the
session's wall time, its name is the template's), so the dashboard asks their selectors
(``last_practice_summary``, ``last_exam_summary``: one or two indexed queries each), which keeps
one home per rule and a fixed number of queries.
"""

from apps.analytics.caching import invalidate_user_caches
from apps.analytics.services.rebuild import RecomputeReport, learner_ids, recompute_aggregates
from apps.analytics.services.recording import lock_learners, record_answers, record_heartbeat

__all__ = [
    "RecomputeReport",
    "invalidate_user_caches",
    "learner_ids",
    "lock_learners",
    "recompute_aggregates",
    "record_answers",
    "record_heartbeat",
]
