"""The editors' workbench pages in the admin: the quality queue, the staff overview and the
question page's panels (statistics with the quintile chart, reports, versions with a diff, the
re-key form), for editors only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.analytics.models import DailyActivity
from apps.core.exceptions import Conflict
from apps.practice import services as practice_services
from apps.practice.models import QuestionReport, ReportStatus
from apps.quality.models import ItemStatistics
from apps.quality.services.regrade import RekeyResult
from apps.questions.models import Question
from apps.questions.services.versions import snapshot_question
from tests.accounts.factories import UserFactory
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

QUEUE = "admin:quality_queue"
OVERVIEW = "admin:quality_overview"


def web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stats_for(question: Question, **over: Any) -> ItemStatistics:
    options = list(question.options.order_by("order", "id"))
    rows = {
        "question": question,
        "version": question.version,
        "n": 240,
        "facility": 0.31,
        "discrimination": -0.12,
        "upper_lower_index": -0.08,
        "median_time_sec": 41.0,
        "flags": ["miskey_suspected", "low_discrimination"],
        "suspected_option_id": options[1].pk,
        "options": [
            {
                "option_id": o.pk,
                "is_key": o.is_correct,
                "picked_percent": [31, 40, 10, 10, 9][i],
                "by_quintile": [[40, 35, 30, 28, 22], [10, 25, 40, 55, 70]][i] if i < 2 else
                               [17, 13, 10, 6, 3],
                "point_biserial": [-0.12, 0.35, -0.1, -0.1, -0.05][i],
            }
            for i, o in enumerate(options)
        ],
    }  # fmt: skip
    rows.update(over)
    return ItemStatistics.objects.create(**rows)


@pytest.fixture
def bank(user: Any) -> dict[str, Any]:
    miskeyed = make_question(stem="A 54-year-old man with a <b>miskeyed</b> stem. What next?")
    fine = make_question(stem="A fine discriminating question about the femoral canal?")
    too_easy = make_question(stem="An easy one about the heart?")
    reported = make_question(stem="A reported question nobody has analysed yet?")
    for q in (miskeyed, fine, too_easy, reported):
        snapshot_question(question=q)
    stats_for(miskeyed)
    stats_for(fine, facility=0.62, discrimination=0.41, flags=[], suspected_option_id=None)
    stats_for(too_easy, n=90, facility=0.95, discrimination=0.25, flags=["too_easy"])
    report = practice_services.report_question(
        user=user, question_id=reported.pk, reason="incorrect_answer", message="B is right"
    )
    miskey_report = practice_services.report_question(
        user=user, question_id=miskeyed.pk, reason="incorrect_answer", message="Key is wrong"
    )
    return {
        "miskeyed": miskeyed,
        "fine": fine,
        "too_easy": too_easy,
        "reported": reported,
        "report": report,
        "miskey_report": miskey_report,
    }


def test_the_queue_shows_flagged_and_reported_questions(editor: Any, bank: Any) -> None:
    page = web(editor).get(reverse(QUEUE))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{bank['miskeyed'].pk}</a>" in html
    assert "Mis-key suspected" in html
    assert f"#{bank['too_easy'].pk}</a>" in html
    assert f"#{bank['fine'].pk}</a>" not in html  # analysed, no flag, no report
    assert 'id="reported-unanalysed"' in html
    assert f"#{bank['reported'].pk}</a>" in html


def test_the_queue_filters_by_flag_and_sorts(editor: Any, bank: Any) -> None:
    client = web(editor)
    html = client.get(reverse(QUEUE) + "?flag=too_easy").content.decode()
    assert f"#{bank['too_easy'].pk}</a>" in html
    assert f"#{bank['miskeyed'].pk}</a>" not in html

    def order(query: str) -> list[int]:
        rows = client.get(reverse(QUEUE) + query).context["rows"]
        return [row["question_id"] for row in rows]

    ids = [bank["miskeyed"].pk, bank["fine"].pk, bank["too_easy"].pk]
    assert order("?flag=&o=facility") == [bank["miskeyed"].pk, bank["too_easy"].pk]
    assert order("?flag=&o=-facility") == [bank["too_easy"].pk, bank["miskeyed"].pk]
    assert order("?flag=&o=-open_reports")[0] == bank["miskeyed"].pk
    # Every analysed question when filtering by any flag; unknown values fall back.
    assert set(order("?flag=low_discrimination")) == {bank["miskeyed"].pk}
    assert set(order("?flag=bogus&o=bogus")) <= set(ids)
    assert client.get(reverse(QUEUE) + "?p=99").status_code == 200


def test_the_overview_shows_answers_weakest_reports_and_flags(
    editor: Any, bank: Any, user: Any
) -> None:
    today = timezone.localdate()
    for days_ago, answered in ((0, 12), (3, 7), (45, 99)):
        DailyActivity.objects.create(
            user=user, date=today - timedelta(days=days_ago), answered=answered, correct=5
        )
    response = web(editor).get(reverse(OVERVIEW))
    assert response.status_code == 200
    context = response.context
    assert context["answered_total"] == 19  # the day 45 days ago is outside the window
    assert len(context["days"]) == 30
    assert [w["question_id"] for w in context["weakest"]] == [
        bank["miskeyed"].pk,
        bank["fine"].pk,
        bank["too_easy"].pk,
    ]
    assert context["open_report_count"] == 2
    counts = {flag: n for flag, _, n in context["flag_counts"]}
    assert counts["miskey_suspected"] == 1
    assert counts["too_easy"] == 1
    html = response.content.decode()
    assert html.count('src="data:image/svg+xml;base64,') == 3
    assert "Key is wrong" in html


def test_the_overview_renders_with_no_data(editor: Any) -> None:
    response = web(editor).get(reverse(OVERVIEW))
    assert response.status_code == 200
    assert "No answers in the last 30 days." in response.content.decode()


def test_the_admin_index_links_the_workbench_for_editors(editor: Any, examiner: Any) -> None:
    html = web(editor).get("/admin/").content.decode()
    assert reverse(QUEUE) in html
    assert reverse(OVERVIEW) in html
    assert reverse(QUEUE) not in web(examiner).get("/admin/").content.decode()


def test_the_question_page_shows_statistics_reports_versions_and_rekey(
    editor: Any, bank: Any
) -> None:
    question = bank["miskeyed"]
    question.explanation = "<p>Changed explanation.</p>"
    question.save()
    snapshot_question(question=question, by=editor, reason="Clearer explanation.")
    question.refresh_from_db()
    assert question.version == 2
    response = web(editor).get(reverse("admin:questions_question_change", args=[question.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # statistics of version 1, with its chart
    assert 'id="workbench-stats"' in html
    assert "Version 1" in html
    assert "quintile-chart" in html
    assert "(suspected key)" in html
    # the open report, resolvable from here
    assert "Key is wrong" in html
    assert reverse("admin:questions_question_resolve_reports", args=[question.pk]) in html
    # the history and the diff of versions 1 and 2
    assert "Clearer explanation." in html
    assert "Changes from version 1 to version 2" in html
    assert 'class="diff"' in html
    assert "Changed explanation." in html
    # the re-key form, the current key ticked
    assert reverse("admin:questions_question_rekey", args=[question.pk]) in html
    key = question.options.get(is_correct=True)
    assert f'value="{key.pk}" checked' in html


def test_the_diff_compares_the_versions_asked_for(editor: Any, bank: Any) -> None:
    question = bank["fine"]
    for text in ("<p>Second.</p>", "<p>Third.</p>"):
        question.explanation = text
        question.save()
        snapshot_question(question=question, by=editor)
    url = reverse("admin:questions_question_change", args=[question.pk])
    versions = web(editor).get(url + "?from=1&to=3").context["workbench"]["versions"]
    assert (versions["older"].number, versions["newer"].number) == (1, 3)
    assert "Third." in versions["diff"]
    default = web(editor).get(url).context["workbench"]["versions"]
    assert (default["older"].number, default["newer"].number) == (2, 3)


def test_reports_are_resolved_from_the_question_page(editor: Any, bank: Any) -> None:
    question = bank["miskeyed"]
    url = reverse("admin:questions_question_resolve_reports", args=[question.pk])
    other = bank["report"]  # a report on another question: ignored here
    response = web(editor).post(url, {"report_ids": [bank["miskey_report"].pk, other.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith("#workbench-reports")
    status = dict(QuestionReport.objects.values_list("pk", "status"))
    assert status == {bank["miskey_report"].pk: ReportStatus.RESOLVED, other.pk: ReportStatus.OPEN}


class FakeRekey:
    def __init__(self, fail: Exception | None = None):
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, **kwargs: Any) -> RekeyResult:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        return RekeyResult(
            run_id=1,
            question_id=kwargs["question_id"],
            version=2,
            status="done",
            practice_attempts=380,
            exam_answers=32,
            exam_sessions=30,
        )


def test_the_rekey_form_calls_the_service(editor: Any, bank: Any, monkeypatch: Any) -> None:
    fake = FakeRekey()
    monkeypatch.setattr("apps.quality.admin.rekey_and_regrade", fake)
    question = bank["miskeyed"]
    suspected = question.options.order_by("order", "id")[1]
    url = reverse("admin:questions_question_rekey", args=[question.pk])
    response = web(editor).post(
        url, {"correct_option_ids": [suspected.pk], "reason": "  B is right.  "}, follow=True
    )
    assert fake.calls == [
        {
            "question_id": question.pk,
            "correct_option_ids": [suspected.pk],
            "reason": "B is right.",
            "by": editor,
        }
    ]
    html = response.content.decode()
    assert "Re-keyed: now version 2. Regraded 380 practice attempt(s)" in html


def test_the_rekey_form_needs_a_reason_and_shows_refusals(
    editor: Any, bank: Any, monkeypatch: Any
) -> None:
    fake = FakeRekey(fail=Conflict("That is already the key."))
    monkeypatch.setattr("apps.quality.admin.rekey_and_regrade", fake)
    question = bank["miskeyed"]
    url = reverse("admin:questions_question_rekey", args=[question.pk])
    key = question.options.get(is_correct=True).pk
    html = web(editor).post(url, {"correct_option_ids": [key]}, follow=True).content.decode()
    assert "Say why the key changes." in html
    assert fake.calls == []
    html = (
        web(editor)
        .post(url, {"correct_option_ids": [key], "reason": "again"}, follow=True)
        .content.decode()
    )
    assert "Not re-keyed: That is already the key." in html
    assert len(fake.calls) == 1
    assert web(editor).get(url).status_code == 405
    missing = reverse("admin:questions_question_rekey", args=[question.pk + 1000])
    assert web(editor).post(missing, {"reason": "x"}).status_code == 404


def test_other_staff_and_candidates_are_refused(examiner: Any, bank: Any, monkeypatch: Any) -> None:
    fake = FakeRekey()
    monkeypatch.setattr("apps.quality.admin.rekey_and_regrade", fake)
    question = bank["miskeyed"]
    candidate = UserFactory(role=Role.USER)
    gets = [reverse(QUEUE), reverse(OVERVIEW), reverse("admin:quality_itemstatistics_changelist")]
    posts = [
        (reverse("admin:questions_question_rekey", args=[question.pk]), {"reason": "x"}),
        (
            reverse("admin:questions_question_resolve_reports", args=[question.pk]),
            {"report_ids": [bank["miskey_report"].pk]},
        ),
    ]
    for url in gets:
        assert web(examiner).get(url).status_code == 403, url
        refused = web(candidate).get(url)
        assert refused.status_code == 302, url
        assert "/admin/login/" in refused["Location"]
    for url, data in posts:
        assert web(examiner).post(url, data).status_code == 403, url
        assert web(candidate).post(url, data).status_code == 302, url
    assert fake.calls == []
    assert not QuestionReport.objects.filter(status=ReportStatus.RESOLVED).exists()


def test_analyse_now_queues_item_analysis_of_the_question(
    editor: Any, bank: Any, monkeypatch: Any
) -> None:
    queued: list[Any] = []
    monkeypatch.setattr("apps.quality.admin.request_item_analysis", lambda **kw: queued.append(kw))
    question = bank["miskeyed"]
    url = reverse("admin:questions_question_analyse", args=[question.pk])
    page = web(editor).get(reverse("admin:questions_question_change", args=[question.pk]))
    assert url in page.content.decode()
    response = web(editor).post(url)
    assert response.status_code == 302
    assert response["Location"].endswith("#workbench-stats")
    assert queued == [{"question_ids": [question.pk]}]


def test_the_queue_costs_the_same_queries_for_more_questions(
    editor: Any, bank: Any, django_assert_max_num_queries: Any
) -> None:
    client = web(editor)
    client.get(reverse(QUEUE))  # session and content types cached
    with django_assert_max_num_queries(8) as few:
        client.get(reverse(QUEUE))
    for _ in range(12):
        stats_for(make_question(), flags=["too_hard"], facility=0.1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = client.get(reverse(QUEUE)).context["rows"]
    assert len(rows) == 14


def test_the_question_page_shows_the_rasch_calibration_beside_the_statistics(
    editor: Any, bank: Any
) -> None:
    from django.utils import timezone

    from apps.readiness.models import CalibrationRun, ItemParameter

    question = bank["fine"]
    run = CalibrationRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), status="finished"
    )
    ItemParameter.objects.create(
        run=run,
        question=question,
        version=1,
        difficulty=-0.73,
        se=0.21,
        n=140,
        infit=1.04,
        outfit=0.97,
    )
    response = web(editor).get(reverse("admin:questions_question_change", args=[question.pk]))
    html = response.content.decode()
    assert "Rasch difficulty <strong>-0.73</strong> logits (SE 0.21, n = 140)" in html
    assert "infit 1.04" in html
