"""Correcting the learning record after a question was regraded (a re-key).

The facts of the regraded answers take the new grade and the new version; the learners whose
grade changed get their aggregates rebuilt from the facts (:func:`recompute_aggregates`, which
takes each learner's lock, bumps the learner's version and drops the cached views), so the
aggregates equal a full rebuild by construction. Runs in the caller's transaction, after the
caller has locked the answers' sessions (the order an answer takes its locks in: session, then
learner, then question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from apps.analytics.models import AnswerFact
from apps.analytics.services.rebuild import recompute_aggregates
from apps.analytics.services.recording import lock_learners
from apps.questions.learning import AnswerSource


@dataclass(frozen=True)
class RegradedFact:
    """The fact of one answer: (user, source, session, question) and its new grade."""

    user_id: int
    source: AnswerSource
    source_id: int
    question_id: int
    is_correct: bool


def regrade_answer_facts(
    *, facts: Sequence[RegradedFact], question_version: int, rebuild_user_ids: Sequence[int]
) -> int:
    """Sets the facts' grade and version, then rebuilds the aggregates of ``rebuild_user_ids``
    (the learners whose grade changed). Returns how many facts were updated. Setting values
    (never adding) makes a repeat harmless; the caller still regrades each answer once."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("regrade_answer_facts must run inside a transaction")
    lock_learners(user_ids={fact.user_id for fact in facts})
    updated = 0
    groups: dict[tuple[str, int, bool], list[int]] = {}
    for fact in facts:
        groups.setdefault((fact.source, fact.question_id, fact.is_correct), []).append(
            fact.source_id
        )
    for (source, question_id, is_correct), source_ids in sorted(groups.items()):
        updated += AnswerFact.objects.filter(
            source=source, question_id=question_id, source_id__in=sorted(source_ids)
        ).update(is_correct=is_correct, question_version=question_version)
    if rebuild_user_ids:
        recompute_aggregates(user_ids=list(rebuild_user_ids))
    return updated
