"""Reads of readiness."""

from __future__ import annotations

from collections.abc import Collection

from apps.readiness.models import CalibrationRun, ItemParameter


def latest_run() -> CalibrationRun | None:
    return (
        CalibrationRun.objects.filter(status=CalibrationRun.Status.FINISHED)
        .order_by("-finished_at", "-id")
        .first()
    )


def question_difficulties(question_ids: Collection[int]) -> dict[int, float]:
    """``{question_id: difficulty}`` from the latest calibration, each question at its newest
    fitted version (the port ``questions.difficulty``)."""
    run = latest_run()
    if run is None or not question_ids:
        return {}
    rows = (
        ItemParameter.objects.filter(run=run, question_id__in=list(question_ids))
        .order_by("question_id", "-version")
        .distinct("question_id")
        .values_list("question_id", "difficulty")
    )
    return dict(rows)


def item_parameters(*, question_id: int) -> dict[int, ItemParameter]:
    """``{version: parameters}`` of the question's versions in the latest calibration (shown to
    editors beside the item statistics)."""
    run = latest_run()
    if run is None:
        return {}
    return {p.version: p for p in ItemParameter.objects.filter(run=run, question_id=question_id)}
