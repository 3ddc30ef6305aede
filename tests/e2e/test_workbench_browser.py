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

    def take(self, page: Any, name: str, *, full_page: bool = True) -> Path:
        path = self.folder / f"{name}.png"
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


def test_an_editor_works_through_the_workbench(live_server: Any, tmp_path: Path) -> None:
    from apps.accounts.models import Role
    from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

    _chromium_or_skip()
    editor = UserFactory(role=Role.EDITOR, is_staff=True, email="editor@example.com")
    shots = Shots(tmp_path)

    with browser_page(live_server.url) as page:
        sign_in(page, editor.email, DEFAULT_PASSWORD)
        assert "OpenMRCS administration" in page.content()
        shots.take(page, "admin-index")

    assert shots.saved
    assert all(_is_png(p) for p in shots.saved)
