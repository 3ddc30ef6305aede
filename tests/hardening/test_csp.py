"""Content-Security-Policy on every response (ASVS 5.0 3.4.3, 3.4.6): closed for the API,
same-origin only for the HTML pages (Django Admin, Swagger UI), which must still work under it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.middleware import CSP_HTML, CSP_NON_HTML

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_api_policy(response: Any) -> None:
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]


def assert_html_policy(response: Any) -> None:
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no inline, no eval, no CDN
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for sources in policy.values():
        assert not any(s.startswith(("http:", "https:")) or s == "*" for s in sources), policy
        assert "'unsafe-eval'" not in sources


class _Resources(HTMLParser):
    """Collects what a page loads: scripts (with or without src) and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.script_srcs: list[str] = []
        self.inline_scripts = 0
        self.stylesheets: list[str] = []
        self.inline_handlers: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.inline_handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            kind = values.get("type") or "text/javascript"
            if values.get("src"):
                self.script_srcs.append(values["src"] or "")
            elif "javascript" in kind or kind == "module":
                self._in_inline_script = True
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def assert_page_works_under_its_policy(response: Any) -> _Resources:
    """A page fits ``script-src 'self'`` if every script is a same-origin file and no markup
    carries inline JavaScript (inline scripts or on* handlers would be blocked)."""
    page = _Resources()
    page.feed(response.content.decode())
    assert page.script_srcs, "expected the page to load scripts"
    assert page.inline_scripts == 0
    assert page.inline_handlers == []
    for url in page.script_srcs + page.stylesheets:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    return page


def test_api_responses_are_closed_to_everything() -> None:
    anonymous = APIClient()
    assert_api_policy(anonymous.get("/api/v1/me"))  # 401
    assert_api_policy(anonymous.get("/api/v1/no-such-route"))  # 404 handler
    assert_api_policy(anonymous.generic("TRACE", "/api/v1/me"))  # refused by middleware
    assert_api_policy(anonymous.get("/api/v1/health"))


def test_personal_api_responses_carry_the_policy(user_client: APIClient) -> None:
    response = user_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CSP_NON_HTML


def test_admin_login_page_works_under_the_html_policy() -> None:
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CSP_HTML
    assert_html_policy(response)
    assert_page_works_under_its_policy(Client().get("/admin/login/?next=/admin/"))


@pytest.mark.parametrize(
    "page",
    ["/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/", "/admin/audit/auditevent/"],
)
def test_admin_pages_render_with_the_html_policy(admin_user: User, page: str) -> None:
    client = Client()
    client.force_login(admin_user)  # ADMIN_REQUIRE_OTP is off in the test settings
    response = client.get(page)
    assert response.status_code == 200, page
    assert_html_policy(response)
    assert_page_works_under_its_policy(response)


def test_admin_change_form_of_a_user_renders_with_the_policy(admin_user: User, user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert response.status_code == 200
    assert_html_policy(response)
    assert_page_works_under_its_policy(response)


def test_api_docs_are_self_hosted_and_work_under_the_policy() -> None:
    client = Client()
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert_html_policy(response)
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html
    assert "unpkg" not in html
    page = assert_page_works_under_its_policy(response)
    # The init script comes from the docs view itself, the bundle from our static files.
    init = [src for src in page.script_srcs if "script" in src.split("?", 1)[-1]]
    assert len(init) == 1
    script = client.get(init[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema" in script.content.decode()
    for url in page.script_srcs + page.stylesheets:
        if url.startswith("/static/"):
            path = re.sub(r"^/static/", "", url.split("?", 1)[0])
            assert finders.find(path), url


def test_a_view_may_set_its_own_policy() -> None:
    from django.http import HttpResponse

    from apps.core.middleware import ContentSecurityPolicyMiddleware

    own = HttpResponse("x", content_type="text/html")
    own["Content-Security-Policy"] = "default-src 'none'"
    middleware = ContentSecurityPolicyMiddleware(lambda request: own)
    assert middleware(None)["Content-Security-Policy"] == "default-src 'none'"
    plain = HttpResponse("x", content_type="text/html")
    assert (
        ContentSecurityPolicyMiddleware(lambda request: plain)(None)["Content-Security-Policy"]
        == CSP_HTML
    )
