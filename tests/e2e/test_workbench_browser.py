"""The editors' workbench in a real browser: Debian's headless Chromium driven by Playwright
(no browser downloaded by Playwright), against a live server.

An editor signs in to Django Admin with a password (ADMIN_REQUIRE_OTP is off in the test
settings), visits each workbench page, and the test asserts on what the page shows and saves a
PNG screenshot of it under pytest's ``tmp_path``. With ``WORKBENCH_SCREENSHOTS=<folder>`` (for
example ``docs/screenshots``) the screenshots are also written there, to refresh the README's.

Playwright's sync API runs an event loop in the test's thread, where Django refuses database
calls, so every row is made before the browser starts and checked after it closes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # root in CI containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]


def _chromium_or_skip() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (requirements/dev.txt)")
    return path


@contextmanager
def browser_page(base_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium_or_skip()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


class Shots:
    """Saves full-page PNGs to ``tmp_path`` and, when asked, to a second folder."""

    def __init__(self, tmp_path: Path):
        self.folder = tmp_path / "screenshots"
        self.folder.mkdir()
        extra = os.environ.get("WORKBENCH_SCREENSHOTS", "")
        self.extra = Path(extra) if extra else None
        self.saved: list[Path] = []

    def take(self, page: Any, name: str, *, full_page: bool = True, element: str = "") -> Path:
        path = self.folder / f"{name}.png"
        if element:
            page.locator(element).screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=full_page)
        self.saved.append(path)
        if self.extra is not None:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, self.extra / path.name)
        return path


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def _image_loaded(page: Any, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 100"))


def _message(page: Any) -> str:
    return str(page.inner_text("ul.messagelist"))


def _bank() -> dict[str, Any]:
    """A mis-keyed question with statistics (strong candidates pick B), an open report on it, a
    question with a report and no statistics, and a month of answers."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Role
    from apps.analytics.models import DailyActivity
    from apps.practice import services as practice_services
    from apps.quality.models import ItemStatistics
    from apps.questions.services.versions import snapshot_question
    from tests.accounts.factories import UserFactory
    from tests.questions.factories import make_question

    editor = UserFactory(role=Role.EDITOR, is_staff=True, email="editor@example.com")
    candidates = [UserFactory() for _ in range(3)]
    miskeyed = make_question(
        stem="A 54-year-old man has sudden painless loss of vision in one eye with a cherry-red "
        "spot at the macula. What is the most likely cause?",
        options=[
            ("Central retinal vein occlusion", True),
            ("Central retinal artery occlusion", False),
            ("Retinal detachment", False),
            ("Vitreous haemorrhage", False),
            ("Acute angle-closure glaucoma", False),
        ],
        explanation="<p>A cherry-red spot is the sign of central retinal artery occlusion.</p>",
    )
    reported = make_question(stem="Which nerve supplies the skin over the anatomical snuffbox?")
    fine = make_question(stem="Which structure passes through the femoral canal?")
    for question in (miskeyed, reported, fine):
        snapshot_question(question=question)
    options = list(miskeyed.options.order_by("order", "id"))
    quintiles = [[38, 33, 27, 20, 12], [12, 24, 41, 60, 80], [20, 18, 13, 9, 4],
                 [16, 14, 11, 6, 3], [14, 11, 8, 5, 1]]  # fmt: skip
    ItemStatistics.objects.create(
        question=miskeyed, version=miskeyed.version, n=412, facility=0.26, discrimination=-0.21,
        upper_lower_index=-0.24, median_time_sec=48.0,
        flags=["miskey_suspected", "low_discrimination"], suspected_option_id=options[1].pk,
        options=[
            {"option_id": o.pk, "is_key": o.is_correct, "picked_percent": sum(q) / 5,
             "by_quintile": q, "point_biserial": pb}
            for o, q, pb in zip(options, quintiles, [-0.21, 0.44, -0.12, -0.1, -0.09], strict=True)
        ],
    )  # fmt: skip
    ItemStatistics.objects.create(
        question=fine, version=fine.version, n=380, facility=0.64, discrimination=0.38, flags=[],
        options=[],
    )  # fmt: skip
    practice_services.report_question(
        user=candidates[0], question_id=miskeyed.pk, reason="incorrect_answer",
        message="The cherry-red spot means the artery, so B is the answer.",
    )  # fmt: skip
    practice_services.report_question(
        user=candidates[1], question_id=reported.pk, reason="typo", message="'snuffbox' typo"
    )
    today = timezone.localdate()
    for days_ago in range(30):
        for n, candidate in enumerate(candidates):
            answered = 8 + (days_ago * 7 + n * 5) % 23
            DailyActivity.objects.create(
                user=candidate, date=today - timedelta(days=days_ago), answered=answered,
                correct=answered * 2 // 3,
            )  # fmt: skip
    return {
        "editor": editor,
        "miskeyed": miskeyed,
        "suspected": options[1],
        "reported": reported,
        "category": miskeyed.category,
    }


def test_an_editor_works_through_the_workbench(live_server: Any, tmp_path: Path) -> None:
    from apps.practice.models import QuestionReport, ReportStatus
    from apps.quality.models import RekeyRun
    from apps.questions.models import Question
    from tests.accounts.factories import DEFAULT_PASSWORD

    _chromium_or_skip()
    bank = _bank()
    miskeyed, suspected = bank["miskeyed"], bank["suspected"]
    shots = Shots(tmp_path)

    with browser_page(live_server.url) as page:
        sign_in(page, bank["editor"].email, DEFAULT_PASSWORD)
        assert page.is_visible("#workbench-links")
        shots.take(page, "admin-index")

        # The quality queue: the mis-keyed question flagged, the unanalysed one reported.
        page.click("#workbench-links >> text=Quality queue")
        page.wait_for_selector("#queue-table")
        queue = page.inner_text("#queue-table")
        assert f"#{miskeyed.pk}" in queue
        assert "Mis-key suspected" in queue
        assert f"#{bank['reported'].pk}" in page.inner_text("#reported-unanalysed")
        page.click("#queue-table thead >> text=Facility")
        page.wait_for_url("**o=*facility*")
        shots.take(page, "quality-queue")

        # The question page: statistics with the quintile chart, the report, history, re-key.
        page.click(f"#queue-table >> text=#{miskeyed.pk}")
        page.wait_for_selector("#workbench-stats")
        stats = page.inner_text("#workbench-stats")
        assert "n = 412" in stats
        assert "(suspected key)" in stats
        assert _image_loaded(page, "#workbench-stats img.quintile-chart")
        assert "B is the answer" in page.inner_text("#workbench-reports")
        shots.take(page, "question-statistics", element="#workbench-stats")
        shots.take(page, "question-workbench")

        page.click("#workbench-reports input[name=_resolve]")
        page.wait_for_selector("ul.messagelist")
        assert "1 report(s) marked resolved." in _message(page)
        assert "No open reports." in page.inner_text("#workbench-reports")

        page.check(f"#workbench-rekey input[value='{suspected.pk}']")
        page.fill("#rekey-reason", "Cherry-red spot: central retinal artery occlusion is the key.")
        page.click("#workbench-rekey input[name=_rekey]")
        page.wait_for_selector("ul.messagelist")
        assert "Re-keyed: now version 2." in _message(page)
        versions = page.inner_text("#workbench-versions")
        assert "Changes from version 1 to version 2" in versions
        assert "Cherry-red spot: central retinal artery occlusion is the key." in versions
        shots.take(page, "version-diff", element="#workbench-versions")

        # The staff overview.
        page.goto("/admin/")
        page.click("#workbench-links >> text=Staff overview")
        page.wait_for_selector("#answers-per-day")
        assert _image_loaded(page, "#answers-per-day img")
        assert _image_loaded(page, "#flagged-items img")
        assert "open reports" in page.inner_text("#card-reports")
        shots.take(page, "staff-overview")

        # Adding a question: five numbered rows, then a preview in a new tab, then save.
        page.goto("/admin/questions/question/add/")
        rows = page.locator("input[name^='options-'][name$='-text']:not([name*='__prefix__'])")
        assert rows.count() == 5
        orders = page.locator("input[name^='options-'][name$='-order']:not([name*='__prefix__'])")
        assert [orders.nth(i).input_value() for i in range(5)] == ["1", "2", "3", "4", "5"]
        assert "HTML allowed" in page.inner_text("details.allowed-html")
        page.fill("#id_stem", "Which artery is ligated in a <b>Whipple</b> procedure?")
        page.select_option("#id_category", str(bank["category"].pk))
        for index, text in enumerate(["Splenic", "Gastroduodenal", "Hepatic proper"]):
            page.fill(f"input[name='options-{index}-text']", text)
        page.check("input[name='options-1-is_correct']")
        page.fill("#id_explanation", "<p>The gastroduodenal artery is divided.</p>")
        with page.context.expect_page() as opened:
            page.click("button[name=_preview]")
        preview = opened.value
        preview.wait_for_load_state()
        assert "Nothing has been saved" in preview.inner_text("#content-main")
        assert preview.inner_text(".preview-key-letters") == "B"
        assert "gastroduodenal artery is divided" in preview.inner_text(".preview-explanation")
        shots.take(preview, "question-preview")
        preview.close()
        page.click("input[name=_save]")
        page.wait_for_selector("ul.messagelist")
        assert "was added successfully" in _message(page)

        # The import page offers the templates.
        page.goto("/admin/questions/importjob/upload/")
        with page.expect_download() as download:
            page.click(".import-templates >> text=questions-template.csv")
        template = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert template.startswith("category,subcategory,type,difficulty,stem,")
        shots.take(page, "import-upload")

    assert shots.saved
    assert all(_is_png(p) for p in shots.saved)
    assert not QuestionReport.objects.filter(question=miskeyed, status=ReportStatus.OPEN).exists()
    assert QuestionReport.objects.filter(question=bank["reported"], status="open").exists()
    miskeyed.refresh_from_db()
    assert miskeyed.version == 2
    assert list(miskeyed.options.filter(is_correct=True).values_list("pk", flat=True)) == [
        suspected.pk
    ]
    run = RekeyRun.objects.get(question=miskeyed)
    assert (run.status, run.created_by) == ("done", bank["editor"])
    added = Question.objects.get(stem__contains="Whipple")
    assert added.options.count() == 3
    assert added.options.get(is_correct=True).text == "Gastroduodenal"
