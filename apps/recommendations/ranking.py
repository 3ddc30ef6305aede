"""Ranking every active category by the marks an hour of practice there is expected to gain on
Part A (``gains.py``), each with a human-readable reason from the rules below and the evidence
behind both.

Reasons (thresholds in settings) say *why* in words; the rank comes from the gain:

1. **Low Score**: answered >= ``RECOMMENDATION_LOW_SCORE_MIN_ANSWERED`` with a score below
   ``RECOMMENDATION_LOW_SCORE_PERCENT``.
2. **Needs Review**: started, not a low score, not practised for more than
   ``RECOMMENDATION_REVIEW_AFTER_DAYS`` days.
3. **Not Started**: nothing answered yet.
4. **Keep Practising**: everything else.

Inputs: the learner's per-category aggregates (analytics), the readiness model's expected score
per category (readiness), memory per category (study: cards and their mean retrievability;
unseen questions are the bank less the cards), each category's marks on the two papers (the
exam standards) and the bank's size per category (shared, cached a minute).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count

from apps.accounts.models import User
from apps.analytics.selectors import CategoryStat, LearnerStats
from apps.exams.selectors.standards import part_a_standard
from apps.questions.models import Question
from apps.readiness.services.predictions import expected_category_scores
from apps.recommendations.gains import CategoryInputs, expected_gain, shrunk_score
from apps.study.selectors.memory import memory_by_category

LOW_SCORE = "Low Score"
NEEDS_REVIEW = "Needs Review"
NOT_STARTED = "Not Started"
KEEP_PRACTISING = "Keep Practising"
REASONS = (LOW_SCORE, NEEDS_REVIEW, NOT_STARTED, KEEP_PRACTISING)

_lock = threading.Lock()
_shared: dict[str, tuple[float, Any]] = {}
_SHARED_TTL_SECONDS = 60.0


def _bank_and_marks() -> tuple[dict[int, int], dict[int, int]]:
    """(bank questions per category, marks per category on Part A), shared by every learner and
    kept for a minute per process (a new question or blueprint shows within that)."""
    now = time.monotonic()
    cached = _shared.get("bank")
    if cached is not None and now - cached[0] < _SHARED_TTL_SECONDS:
        return cached[1]
    with _lock:
        bank = dict(
            Question.objects.published()
            .order_by()
            .values("category_id")
            .annotate(n=Count("id"))
            .values_list("category_id", "n")
        )
        marks: dict[int, int] = {}
        for paper in part_a_standard().papers:
            for category_id, count in paper.blueprint.items():
                marks[category_id] = marks.get(category_id, 0) + count
        _shared["bank"] = (time.monotonic(), (bank, marks))
        return bank, marks


def forget_shared_inputs() -> None:
    _shared.clear()


def classify(category: CategoryStat, *, now: datetime) -> tuple[str, dict[str, Any]]:
    """The category's reason in words and the threshold that gave it."""
    min_answered = settings.RECOMMENDATION_LOW_SCORE_MIN_ANSWERED
    below = settings.RECOMMENDATION_LOW_SCORE_PERCENT
    after_days = settings.RECOMMENDATION_REVIEW_AFTER_DAYS
    if category.answered >= min_answered and category.score_percent < below:
        return LOW_SCORE, {
            "rule": "low_score",
            "below_percent": below,
            "min_answered": min_answered,
        }
    if (
        category.answered > 0
        and category.last_practiced_at is not None
        and category.last_practiced_at < now - timedelta(days=after_days)
    ):
        return NEEDS_REVIEW, {"rule": "needs_review", "after_days": after_days}
    if category.answered == 0:
        return NOT_STARTED, {"rule": "not_started"}
    return KEEP_PRACTISING, {
        "rule": "keep_practising",
        "below_percent": below,
        "min_answered": min_answered,
    }


def rank_categories(*, user: User, stats: LearnerStats, now: datetime) -> list[dict[str, Any]]:
    """Every active category, best first by expected gain (ties: reason order, then syllabus
    order), in the shape the API serves (``category``, ``category_slug``, ``score_percent``,
    ``reason``, ``answered``, ``last_practiced_at``, ``evidence``)."""
    bank, marks = _bank_and_marks()
    model_scores = expected_category_scores(user=user)
    memory = {m.category_id: m for m in memory_by_category(user=user, now=now)}
    total_marks = sum(marks.values()) or 1
    rows = []
    for position, category in enumerate(stats.categories):
        reason, threshold = classify(category, now=now)
        remembered = memory.get(category.category_id)
        inputs = CategoryInputs(
            marks=marks.get(category.category_id, 0),
            score=shrunk_score(
                answered=category.answered,
                correct=category.correct,
                model_score=model_scores.get(category.category_id),
            ),
            # never answered in practice = the bank less the learner's cards there (the same
            # rule as the study plan's unseen count, without re-reading the bank per learner)
            unseen_remaining=max(
                bank.get(category.category_id, 0) - (remembered.cards if remembered else 0), 0
            ),
            bank_size=bank.get(category.category_id, 0),
            cards=remembered.cards if remembered else 0,
            mean_retrievability=remembered.mean_retrievability if remembered else None,
        )
        gain = expected_gain(inputs)
        rows.append(
            (
                -round(gain.best, 6),
                REASONS.index(reason),
                position,
                {
                    "category": category.name,
                    "category_slug": category.slug,
                    "score_percent": category.score_percent,
                    "reason": reason,
                    "answered": category.answered,
                    "last_practiced_at": (
                        category.last_practiced_at.isoformat()
                        if category.last_practiced_at
                        else None
                    ),
                    "evidence": {
                        "answered": category.answered,
                        "score_percent": category.score_percent,
                        "threshold": threshold,
                        "unseen_remaining": inputs.unseen_remaining,
                        "mean_retrievability": (
                            round(inputs.mean_retrievability, 3)
                            if inputs.mean_retrievability is not None
                            else None
                        ),
                        "blueprint_weight": round(inputs.marks / total_marks, 4),
                        "expected_score_percent": round(100 * inputs.score),
                        "expected_gain_marks": round(gain.best, 2),
                        "gain_from": "reviews" if gain.review > gain.new else "new_questions",
                    },
                },
            )
        )
    rows.sort(key=lambda row: row[:3])
    return [row[3] for row in rows]


def digest(topics: list[dict[str, Any]]) -> str:
    """A fingerprint of what a ranking says: its order, reasons and the evidence's counts, with
    the gains to a tenth of a mark. Memory decays by the minute, so unrounded numbers would make
    every run a change; a run over the same answers writes nothing."""
    summary = [
        (
            t["category_slug"],
            t["reason"],
            t["answered"],
            t["score_percent"],
            t["evidence"]["unseen_remaining"],
            round(t["evidence"]["expected_gain_marks"], 1),
        )
        for t in topics
    ]
    return hashlib.sha256(json.dumps(summary).encode()).hexdigest()


def next_action(
    *, reviews_due: int, new_remaining: int, topics: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The single most valuable thing to do now, for the dashboard's ``today`` block.

    Due reviews come first: the spaced-repetition schedule is built so that a card reviewed when
    due is kept for longest per minute spent, and every day it waits costs recall (the ``today``
    practice mode hands them out first for the same reason). Then new questions in the
    top-ranked category (as many as today's new limit, the category's unseen questions and an
    hour allow, with that share of the hour's expected gain); when today's new questions are
    used up, the top-ranked category itself. None when there is nothing to suggest."""
    if reviews_due > 0:
        return {
            "kind": "reviews",
            "label": f"{reviews_due} review{'s' if reviews_due != 1 else ''} due",
            "category_slug": None,
            "expected_gain_marks": None,
        }
    if not topics:
        return None
    top = topics[0]
    evidence = top["evidence"]
    per_hour = settings.RECOMMENDATION_QUESTIONS_PER_HOUR
    count = min(new_remaining, evidence["unseen_remaining"], per_hour)
    if count > 0 and evidence["gain_from"] == "new_questions":
        gain = round(evidence["expected_gain_marks"] * count / per_hour, 2)
        label = f"{count} new in {top['category']}"
        return {
            "kind": "new",
            "label": label + (f": +{gain:.1f} marks expected" if gain >= 0.05 else ""),
            "category_slug": top["category_slug"],
            "expected_gain_marks": gain,
        }
    gain = evidence["expected_gain_marks"]
    label = f"Practise {top['category']}"
    return {
        "kind": "topic",
        "label": label + (f": +{gain:.1f} marks expected in an hour" if gain >= 0.05 else ""),
        "category_slug": top["category_slug"],
        "expected_gain_marks": gain,
    }
