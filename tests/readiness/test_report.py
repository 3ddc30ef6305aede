"""The calibration report (predicted against actual on held-out mocks), the nightly job's
bookkeeping, the command and the admin pages."""

from __future__ import annotations

from io import StringIO
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.readiness.compiled import forget_compiled_model
from apps.readiness.models import CalibrationReport, CalibrationRun, ItemParameter
from apps.readiness.services.calibration import RUNS_KEPT, calibrate
from apps.readiness.services.report import build_calibration_report, reliability_table
from tests.readiness.world import World, build_world, candidates

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_model() -> Any:
    forget_compiled_model()
    yield
    forget_compiled_model()


@pytest.fixture
def sat_mocks(db: Any) -> World:
    """150 candidates: 40 practice first attempts each, then a 30-question mock (exam facts,
    one session each; the report holds out every 5th session by id)."""
    world = build_world(seed=11, per_category=8)
    for index, learner in enumerate(candidates(150)):
        items = world.spread_items(70)
        world.answer(learner, items[:40], theta=float(world.rng.normal()))
        world.answer(learner, items[40:], source="exam", session_id=900_000 + index, start=24.0)
    return world


def test_the_report_compares_predictions_with_held_out_mocks(sat_mocks: World) -> None:
    report = build_calibration_report(holdout_every=5)
    assert report.sessions == 30  # every 5th of 150 sessions
    assert report.answers == 30 * 30
    # The model knows more than the bank's average facility ...
    assert report.brier is not None
    assert report.brier_baseline is not None
    assert report.brier < report.brier_baseline
    # ... and its probabilities mean what they say: the deciles rise and sit near the diagonal.
    observed = [row["observed"] for row in report.deciles]
    predicted = [row["predicted"] for row in report.deciles]
    assert len(report.deciles) == 10
    assert sum(row["n"] for row in report.deciles) == 900
    assert np.corrcoef(predicted, observed)[0, 1] > 0.8
    assert max(abs(p - o) for p, o in zip(predicted, observed, strict=True)) < 0.2
    # With 30 mocks the coverage is itself uncertain (+-7 points): near 80%, computed not set.
    assert report.interval_coverage is not None
    assert 0.6 <= report.interval_coverage <= 0.97
    assert CalibrationReport.objects.get() == report


def test_the_report_says_when_there_is_nothing_to_compare(db: Any) -> None:
    out = StringIO()
    call_command("readiness_calibration", stdout=out)
    assert "No held-out mock answers yet" in out.getvalue()


def test_the_command_calibrates_then_prints_the_report(sat_mocks: World) -> None:
    out = StringIO()
    call_command("readiness_calibration", "--calibrate", stdout=out)
    text = out.getvalue()
    assert "calibration " in text
    assert "items" in text
    assert "Brier score" in text
    assert "80% interval coverage" in text
    assert text.count("\n") > 12  # the decile table
    assert CalibrationRun.objects.filter(status="finished").count() == 1


def test_the_command_refuses_a_bad_holdout(db: Any) -> None:
    with pytest.raises(SystemExit):
        call_command("readiness_calibration", "--holdout-every", "1", stderr=StringIO())


def test_reliability_table_bins_by_prediction() -> None:
    predicted = np.linspace(0.05, 0.95, 100)
    observed = (predicted > 0.5).astype(float)
    table = reliability_table(predicted, observed)
    assert [row["n"] for row in table] == [10] * 10
    assert table[0]["observed"] == 0.0
    assert table[-1]["observed"] == 1.0
    assert table[0]["predicted"] < table[-1]["predicted"]


def test_calibration_is_repeatable_and_keeps_the_last_runs(db: Any) -> None:
    world = build_world(seed=3, per_category=2)
    for learner in candidates(20):
        world.answer(learner, world.spread_items(20), theta=float(world.rng.normal()))
    runs = [calibrate() for _ in range(RUNS_KEPT + 1)]
    first = dict(
        ItemParameter.objects.filter(run=runs[-2]).values_list("question_id", "difficulty")
    )
    last = dict(ItemParameter.objects.filter(run=runs[-1]).values_list("question_id", "difficulty"))
    assert first == last  # same data, same numbers
    assert CalibrationRun.objects.count() == RUNS_KEPT
    assert not CalibrationRun.objects.filter(pk=runs[0].pk).exists()
    assert runs[-1].seconds > 0
    assert runs[-1].peak_memory_mb > 0


def test_a_calibration_of_nothing_finishes_empty(db: Any) -> None:
    run = calibrate()
    assert run.status == CalibrationRun.Status.FINISHED
    assert (run.items, run.learners, run.responses) == (0, 0, 0)


@pytest.mark.parametrize("role_fixture", ["examiner", "editor", "admin_user"])
def test_staff_read_runs_and_reports_in_the_admin(
    sat_mocks: World, role_fixture: str, request: pytest.FixtureRequest
) -> None:
    staff: User = request.getfixturevalue(role_fixture)
    calibrate()
    report = build_calibration_report()
    client = Client()
    client.force_login(staff)
    for url in (
        "/admin/readiness/calibrationrun/",
        "/admin/readiness/itemparameter/",
        "/admin/readiness/calibrationreport/",
        f"/admin/readiness/calibrationreport/{report.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/readiness/calibrationreport/{report.pk}/change/").content.decode()
    assert "Reliability by decile" in page
    assert "<table>" in page


def test_candidates_do_not_reach_the_readiness_admin(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/readiness/calibrationrun/")
    assert response.status_code in (302, 403)


def test_examiners_queue_a_calibration_from_the_admin(
    examiner: User, django_capture_on_commit_callbacks: Any
) -> None:
    run = CalibrationRun.objects.create(started_at="2026-12-01T03:50:00Z", status="finished")
    client = Client()
    client.force_login(examiner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/readiness/calibrationrun/",
            {"action": "run_calibration_now", "_selected_action": [run.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "Calibration queued" in response.content.decode()
