"""Item analysis: recomputes ``ItemStatistics`` for every version of the questions asked for
(all answered questions when none are), from candidates' first attempts.

The arithmetic and the flag rules are in :mod:`apps.quality.psychometrics`; this module reads
and writes. Questions are taken in batches (``QUALITY_ANALYSIS_BATCH``); each batch costs a
fixed set of statements however many candidates answered: its first attempts (the learning
record), the options picked in them (practice and exams, by session chunks), the questions'
current version, options and key, the older versions' snapshots, then one delete and one
upsert. Rest scores come from every learner's first-attempt totals, read once per run (or, for
a few questions, for their learners only).

A batch replaces the statistics of its questions, so a run is idempotent. A row whose version
has no first attempts left is deleted only for the question's *current* version; an older
version's row stays as the record of that version, "as of" its ``computed_at``: after a re-key
its answers are regraded onto the new version (apps/quality/services/regrade.py), and the
evidence that flagged the old key must not vanish with them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.analytics.first_attempts import (
    FirstAttempt,
    answered_question_ids,
    first_attempt_totals,
    first_attempts,
)
from apps.core.queue import enqueue_after_commit
from apps.exams.selectors import answer_selections
from apps.practice.selectors import attempt_selections
from apps.quality.models import ItemStatistics
from apps.quality.psychometrics import (
    OptionSpec,
    Thresholds,
    VersionStats,
    analyse_version,
    rest_scores,
)
from apps.quality.selectors import current_versions
from apps.questions.grading import answer_keys
from apps.questions.selectors import option_ids_by_question, versions_by_number

logger = logging.getLogger("apps.quality.analysis")

ANALYSE_TASK = "quality.analyse_items"
_UPDATE_FIELDS = (
    "n",
    "facility",
    "discrimination",
    "upper_lower_index",
    "median_time_sec",
    "options",
    "flags",
    "suspected_option_id",
    "computed_at",
)


@dataclass
class AnalysisReport:
    questions: int = 0
    versions: int = 0
    flagged: int = 0
    batches: int = 0
    flags: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": self.questions,
            "versions": self.versions,
            "flagged": self.flagged,
            "batches": self.batches,
            "flags": dict(self.flags),
        }


def request_item_analysis(*, question_ids: Sequence[int] | None = None) -> None:
    """Queues an analysis (after the current transaction commits): of these questions, or of
    every answered question when None. What the staff API and the admin call on demand."""
    enqueue_after_commit(
        ANALYSE_TASK, question_ids=None if question_ids is None else list(question_ids)
    )


def analyse_items(
    *,
    question_ids: Collection[int] | None = None,
    batch_size: int | None = None,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> AnalysisReport:
    """Recomputes the statistics of these questions (every question with a fact or a stored
    row when None) and returns what was written. Safe to run again at any time.
    ``progress(done, total)`` is called with the questions analysed so far, once before the
    first batch and after each (``manage.py analyse_items`` draws its bar with it)."""
    size = max(1, batch_size or settings.QUALITY_ANALYSIS_BATCH)
    limits = thresholds or Thresholds.from_settings()
    if question_ids is None:
        stored = ItemStatistics.objects.values_list("question_id", flat=True).distinct()
        ids = sorted(set(answered_question_ids()) | set(stored))
        totals: dict[int, tuple[int, int]] | None = first_attempt_totals()
    else:
        ids = sorted(set(question_ids))
        totals = None  # read per batch, for the batch's learners only
    report = AnalysisReport()
    batches = (len(ids) + size - 1) // size
    if progress is not None:
        progress(0, len(ids))
    for number, start in enumerate(range(0, len(ids), size), start=1):
        batch = ids[start : start + size]
        written = _analyse_batch(batch, totals=totals, thresholds=limits)
        report.batches += 1
        report.questions += len(batch)
        report.versions += len(written)
        for row in written:
            if row.flags:
                report.flagged += 1
            for flag in row.flags:
                report.flags[flag] = report.flags.get(flag, 0) + 1
        logger.info(
            "item analysis batch %d/%d: %d questions, %d versions, %d flagged so far",
            number,
            batches,
            len(batch),
            len(written),
            report.flagged,
        )
        if progress is not None:
            progress(report.questions, len(ids))
    return report


def _analyse_batch(
    question_ids: list[int],
    *,
    totals: dict[int, tuple[int, int]] | None,
    thresholds: Thresholds,
) -> list[ItemStatistics]:
    attempts: dict[tuple[int, int], list[FirstAttempt]] = defaultdict(list)
    for attempt in first_attempts(question_ids=question_ids):
        if attempt.question_version is not None:
            attempts[(attempt.question_id, attempt.question_version)].append(attempt)
    current = current_versions(question_ids=question_ids)
    if totals is None:
        learners = {a.user_id for rows in attempts.values() for a in rows}
        totals = first_attempt_totals(user_ids=learners)
    selections = _selections(attempts)
    options = _version_options(attempts, current, selections)
    now = timezone.now()
    rows: list[ItemStatistics] = []
    for (question_id, version), group in sorted(attempts.items()):
        if question_id not in current:
            continue  # deleted meanwhile
        correct = [a.is_correct for a in group]
        stats = analyse_version(
            options=options[(question_id, version)],
            correct=correct,
            rest=rest_scores(correct=correct, totals=[totals.get(a.user_id) for a in group]),
            time_sec=[a.time_spent_sec for a in group],
            selections=[selections.get((a.source, a.source_id, question_id)) for a in group],
            thresholds=thresholds,
        )
        rows.append(_row(question_id, version, stats, now))
    with transaction.atomic():
        # Only the current version's row (or one for a version that never existed) can be
        # stale; older versions' rows are history.
        current_rows = Q(pk__in=[])
        for question_id, version in current.items():
            current_rows |= Q(question_id=question_id, version__gte=version)
        stale = ItemStatistics.objects.filter(current_rows)
        for question_id in {r.question_id for r in rows}:
            versions = [r.version for r in rows if r.question_id == question_id]
            stale = stale.exclude(question_id=question_id, version__in=versions)
        stale.delete()
        if rows:
            ItemStatistics.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=("question", "version"),
                update_fields=_UPDATE_FIELDS,
            )
    return rows


def _selections(
    attempts: dict[tuple[int, int], list[FirstAttempt]],
) -> dict[tuple[str, int, int], list[int]]:
    """``{(source, session id, question id): selected option ids}`` for the first attempts."""
    keys: dict[str, set[tuple[int, int]]] = {"practice": set(), "exam": set()}
    for (question_id, _), group in attempts.items():
        for a in group:
            keys.setdefault(a.source, set()).add((a.source_id, question_id))
    found: dict[tuple[str, int, int], list[int]] = {}
    for (session_id, question_id), selected in attempt_selections(keys=keys["practice"]).items():
        found[("practice", session_id, question_id)] = selected
    for (session_id, question_id), selected in answer_selections(keys=keys["exam"]).items():
        found[("exam", session_id, question_id)] = selected
    return found


def _version_options(
    attempts: dict[tuple[int, int], list[FirstAttempt]],
    current: dict[int, int],
    selections: dict[tuple[str, int, int], list[int]],
) -> dict[tuple[int, int], list[OptionSpec]]:
    """Each analysed version's options in display order, with its key: the version's snapshot;
    else, for the current version, the question's options now; else (an old version from
    before version history) the options seen in the selections, with no key known."""
    snapshots = versions_by_number(keys=list(attempts))
    now_ids = [qid for (qid, version) in attempts if current.get(qid) == version]
    option_order = option_ids_by_question(question_ids=now_ids) if now_ids else {}
    keys = answer_keys(question_ids=now_ids) if now_ids else {}
    specs: dict[tuple[int, int], list[OptionSpec]] = {}
    for (question_id, version), group in attempts.items():
        snapshot = snapshots.get((question_id, version))
        if snapshot is not None:
            key = set(snapshot.correct_option_ids)
            ordered = sorted(snapshot.options, key=lambda o: (o.get("order", 0), o["id"]))
            specs[(question_id, version)] = [
                OptionSpec(option_id=int(o["id"]), is_key=int(o["id"]) in key) for o in ordered
            ]
        elif current.get(question_id) == version:
            key = set(keys.get(question_id, []))
            specs[(question_id, version)] = [
                OptionSpec(option_id=oid, is_key=oid in key)
                for oid in option_order.get(question_id, [])
            ]
        else:
            seen = sorted(
                {
                    oid
                    for a in group
                    for oid in selections.get((a.source, a.source_id, question_id)) or ()
                }
            )
            specs[(question_id, version)] = [OptionSpec(option_id=o, is_key=False) for o in seen]
    return specs


def _row(question_id: int, version: int, stats: VersionStats, now: datetime) -> ItemStatistics:
    return ItemStatistics(
        question_id=question_id,
        version=version,
        n=stats.n,
        facility=stats.facility,
        discrimination=stats.discrimination,
        upper_lower_index=stats.upper_lower_index,
        median_time_sec=stats.median_time_sec,
        options=[o.as_json() for o in stats.options],
        flags=list(stats.flags),
        suspected_option_id=stats.suspected_option_id,
        computed_at=now,
    )
