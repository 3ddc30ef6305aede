"""The staff item-quality API: ``GET /staff/questions/quality``, ``GET
/staff/questions/{id}/stats`` and ``POST /staff/questions/{id}/stats/refresh``."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.practice.models import QuestionReport, ReportStatus
from apps.practice.services import report_question, resolve_question_reports
from apps.quality.models import ItemStatistics
from apps.questions.models import Question
from apps.questions.services.versions import rekey_question, snapshot_question
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from tests.quality.simulated_population import MISKEY_TRUE, MISKEYED_ITEM, simulate
from tests.quality.test_analysis_job import _load
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/staff/questions/quality"


def _stats(question: Question, version: int = 1, **kw: Any) -> ItemStatistics:
    fields: dict[str, Any] = {
        "n": 100,
        "facility": 0.5,
        "discrimination": 0.3,
        "upper_lower_index": 0.4,
        "median_time_sec": 42.0,
        "options": [
            {
                "option_id": 1,
                "is_key": True,
                "picked_percent": 50,
                "by_quintile": [10, 30, 50, 70, 90],
                "point_biserial": 0.3,
            }
        ],
        "flags": [],
    }
    fields.update(kw)
    return ItemStatistics.objects.create(question=question, version=version, **fields)


def _url(question_id: int, suffix: str = "") -> str:
    return f"/api/v1/staff/questions/{question_id}/stats{suffix}"


def test_urls_are_named() -> None:
    assert reverse("quality:queue-list") == QUEUE
    assert reverse("quality:question-stats", kwargs={"pk": 5}) == _url(5)
    assert reverse("quality:question-stats-refresh", kwargs={"pk": 5}) == _url(5, "/refresh")


def test_the_queue_has_the_contract_shape(editor_client: APIClient, user: User) -> None:
    question = make_question(
        stem="<p>A 54-year-old man has <b>pain</b> in the right iliac "
        "fossa that began around the umbilicus two days ago. Next?</p>"
    )
    _stats(question, 1, flags=["too_easy"])
    _stats(
        question,
        2,
        n=412,
        facility=0.31,
        discrimination=-0.12,
        flags=["miskey_suspected", "low_discrimination"],
        suspected_option_id=2044,
    )
    report_question(user=user, question_id=question.pk, reason="incorrect_answer")

    response = editor_client.get(QUEUE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1  # the latest analysed version only
    (row,) = body["results"]
    assert row == {
        "id": question.pk,
        "version": 2,
        "stem_excerpt": row["stem_excerpt"],
        "n": 412,
        "facility": 0.31,
        "discrimination": -0.12,
        "flags": ["miskey_suspected", "low_discrimination", "reported"],
        "suspected_option_id": 2044,
        "open_reports": 1,
    }
    assert row["stem_excerpt"].startswith("A 54-year-old man has pain")
    assert "<" not in row["stem_excerpt"]
    assert len(row["stem_excerpt"]) <= 84


def test_the_queue_filters_by_flag(editor_client: APIClient, user: User) -> None:
    hard, easy, reported, plain = (make_question() for _ in range(4))
    _stats(hard, flags=["too_hard", "low_discrimination"])
    _stats(easy, flags=["too_easy"])
    _stats(reported)
    _stats(plain)
    report_question(user=user, question_id=reported.pk, reason="typo")

    def ids(flag: str) -> list[int]:
        response = editor_client.get(QUEUE, {"flag": flag})
        assert response.status_code == 200
        return [r["id"] for r in response.json()["results"]]

    assert ids("too_hard") == [hard.pk]
    assert ids("low_discrimination") == [hard.pk]
    assert ids("too_easy") == [easy.pk]
    assert ids("miskey_suspected") == []
    assert ids("reported") == [reported.pk]
    resolve_question_reports(
        report_ids=QuestionReport.objects.values_list("id", flat=True),
        by=UserFactory(role="editor"),
    )
    assert QuestionReport.objects.filter(status=ReportStatus.OPEN).count() == 0
    assert ids("reported") == []


def test_the_queue_orders(editor_client: APIClient, user: User, other_user: User) -> None:
    a, b, c = make_question(), make_question(), make_question()
    _stats(a, n=30, facility=0.9, discrimination=0.1)
    _stats(b, n=300, facility=0.2, discrimination=None)
    _stats(c, n=100, facility=0.5, discrimination=0.4)
    report_question(user=user, question_id=c.pk, reason="typo")
    report_question(user=other_user, question_id=c.pk, reason="unclear")
    report_question(user=user, question_id=a.pk, reason="typo")

    def ids(ordering: str) -> list[int]:
        response = editor_client.get(QUEUE, {"ordering": ordering})
        assert response.status_code == 200
        return [r["id"] for r in response.json()["results"]]

    assert ids("-n") == [b.pk, c.pk, a.pk]
    assert ids("n") == [a.pk, c.pk, b.pk]
    assert ids("facility") == [b.pk, c.pk, a.pk]
    assert ids("-facility") == [a.pk, c.pk, b.pk]
    assert ids("discrimination") == [a.pk, c.pk, b.pk]  # nulls last
    assert ids("-open_reports") == [c.pk, a.pk, b.pk]
    assert ids("open_reports") == [b.pk, a.pk, c.pk]
    assert [r["id"] for r in editor_client.get(QUEUE).json()["results"]] == [c.pk, a.pk, b.pk]


@pytest.mark.parametrize(
    "params", [{"flag": "wrong"}, {"ordering": "stem"}, {"flag": "TOO_HARD"}, {"page_size": "x"}]
)
def test_the_queue_refuses_bad_parameters(editor_client: APIClient, params: dict[str, str]) -> None:
    _stats(make_question())
    response = editor_client.get(QUEUE, params)
    if "page_size" in params:  # DRF falls back to the default size
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = response.json()
    assert body["code"]
    assert set(body["fields"]) == set(params)


def test_the_queue_paginates_in_a_fixed_number_of_queries(
    editor_client: APIClient, user: User, django_assert_max_num_queries: Any
) -> None:
    questions = [make_question() for _ in range(30)]
    for q in questions:
        _stats(q, 1)
        _stats(q, 2, flags=["too_hard"])
        report_question(user=user, question_id=q.pk, reason="typo")

    # Authentication (token, session, user) plus a count and a page.
    with django_assert_max_num_queries(6):
        response = editor_client.get(QUEUE, {"page_size": 25, "flag": "too_hard"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert all(r["version"] == 2 and r["open_reports"] == 1 for r in body["results"])


def test_stats_per_version_with_the_contract_shape(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    pop = simulate(seed=7, candidates=120, items=8)
    bank = _load(pop, tag="api")
    question = bank.questions[MISKEYED_ITEM]
    snapshot_question(question=question)
    rekey_question(
        question_id=question.pk,
        correct_option_ids=[bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]],
        reason="C",
        by=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.post(_url(question.pk, "/refresh")).status_code == 202

    response = editor_client.get(_url(question.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == question.pk
    newest, first = body["versions"]
    assert newest["version"] == 2
    assert newest["n"] == 0
    assert newest["facility"] is None
    assert newest["options"] == []
    assert newest["flags"] == []
    assert newest["created_at"] is not None
    assert first["version"] == 1
    assert first["n"] == 120
    assert "miskey_suspected" in first["flags"]
    assert first["suspected_option_id"] == bank.option_ids[MISKEYED_ITEM][MISKEY_TRUE]
    contract = {
        "version",
        "created_at",
        "n",
        "facility",
        "discrimination",
        "upper_lower_index",
        "flags",
        "options",
    }
    assert contract <= set(first)
    assert len(first["options"]) == 5
    for option in first["options"]:
        assert set(option) == {
            "option_id",
            "is_key",
            "picked_percent",
            "by_quintile",
            "point_biserial",
        }
        assert len(option["by_quintile"]) == 5
    assert [o["is_key"] for o in first["options"]] == [True, False, False, False, False]


def test_refresh_recomputes_now_in_eager_mode(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    bank = _load(simulate(seed=3, candidates=60, items=5), tag="refresh")
    question = bank.questions[0]
    assert not ItemStatistics.objects.exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = editor_client.post(_url(question.pk, "/refresh"))

    assert response.status_code == 202
    assert response.json() == {"status": "queued"}
    assert len(callbacks) == 1  # published once the request's work is committed
    assert list(ItemStatistics.objects.values_list("question_id", flat=True)) == [question.pk]


def test_admins_may_use_it(admin_client_api: APIClient) -> None:
    question = make_question()
    _stats(question)
    assert admin_client_api.get(QUEUE).status_code == 200
    assert admin_client_api.get(_url(question.pk)).status_code == 200
    assert admin_client_api.post(_url(question.pk, "/refresh")).status_code == 202


@pytest.mark.parametrize("role", ["user", "examiner"])
def test_candidates_and_examiners_get_403(role: str) -> None:
    question = make_question()
    _stats(question)
    client = client_for(UserFactory(role=role))
    for response in (
        client.get(QUEUE),
        client.get(_url(question.pk)),
        client.post(_url(question.pk, "/refresh")),
    ):
        assert response.status_code == 403
        assert response.json()["code"]
    assert ItemStatistics.objects.count() == 1


def test_anonymous_gets_401(api_client: APIClient) -> None:
    question = make_question()
    assert api_client.get(QUEUE).status_code == 401
    assert api_client.get(_url(question.pk)).status_code == 401
    assert api_client.post(_url(question.pk, "/refresh")).status_code == 401


def test_unknown_question_is_404(editor_client: APIClient) -> None:
    missing = (Question.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    for response in (
        editor_client.get(_url(missing)),
        editor_client.post(_url(missing, "/refresh")),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not ItemStatistics.objects.exists()


def test_a_question_never_answered_has_its_versions_with_n_0(editor_client: APIClient) -> None:
    question = make_question()
    snapshot_question(question=question)
    body = editor_client.get(_url(question.pk)).json()
    assert body == {
        "id": question.pk,
        "versions": [
            {
                "version": question.version,
                "created_at": body["versions"][0]["created_at"],
                "n": 0,
                "facility": None,
                "discrimination": None,
                "upper_lower_index": None,
                "median_time_sec": None,
                "flags": [],
                "suspected_option_id": None,
                "options": [],
                "computed_at": None,
                "irt": None,
            }
        ],
    }


def test_stats_show_the_versions_rasch_calibration_with_its_n(editor_client: APIClient) -> None:
    from apps.readiness.compiled import forget_compiled_model
    from apps.readiness.services.calibration import calibrate

    pop = simulate(seed=8, candidates=80, items=6)
    bank = _load(pop, tag="irt")
    question = bank.questions[0]
    before = editor_client.get(_url(question.pk)).json()["versions"]
    assert all(v["irt"] is None for v in before)  # nothing calibrated yet
    calibrate()
    forget_compiled_model()
    irt = editor_client.get(_url(question.pk)).json()["versions"][0]["irt"]
    assert irt["n"] == 80
    assert set(irt) == {"difficulty", "se", "n", "infit", "outfit"}
    assert 0 < irt["se"] < 1
    # the item everyone finds easier has the lower difficulty
    easiest = int(pop.correct.mean(axis=0).argmax())
    hardest = int(pop.correct.mean(axis=0).argmin())
    easy = editor_client.get(_url(bank.questions[easiest].pk)).json()["versions"][0]["irt"]
    hard = editor_client.get(_url(bank.questions[hardest].pk)).json()["versions"][0]["irt"]
    assert easy["difficulty"] < hard["difficulty"]
