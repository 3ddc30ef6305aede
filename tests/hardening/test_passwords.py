"""Password policy (ASVS 5.0 6.2 / 4.0.3 2.1): 12 minimum, 64+ allowed, no composition rules,
common and breached passwords refused offline (HIBP only when enabled), change needs the
current password."""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.passwords import (
    BREACHED_LIST_PATH,
    DIGEST_HEX_CHARS,
    BreachedPasswordValidator,
    build_breached_list,
    load_breached_digests,
)
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import bearer, tokens_for

pytestmark = pytest.mark.django_db

BREACHED = [
    "password1234",
    "PASSWORD1234",
    "Password1234",
    "p@$$w0rd1234",
    "iloveyou2020",
    "iloveyou2020!",
    "monkeymonkey",
    "qwertyuiop123",
    "123456789012",
    "aaaaaaaaaaaaaaaa",
    "dragondragon",
]
STRONG = [
    "a much longer passphrase 2024",
    "tangerine lighthouse orbit",
    "Mrcs revision is a marathon",
]


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest().upper()


def register(password: str, email: str = "new@example.com") -> Any:
    return APIClient().post("/api/v1/auth/register", {"email": email, "password": password})


# --- the bundled list ----------------------------------------------------------------------------


def test_bundled_list_is_compact_sorted_and_holds_no_plaintext() -> None:
    data = BREACHED_LIST_PATH.read_bytes()
    assert len(data) < 1_000_000
    lines = gzip.decompress(data).decode("ascii").split()
    assert 20_000 <= len(lines) <= 150_000
    assert lines == sorted(set(lines))
    assert all(len(line) == DIGEST_HEX_CHARS for line in lines)
    assert all(set(line) <= set("0123456789ABCDEF") for line in lines)
    assert b"password" not in gzip.decompress(data)


def test_bundled_list_is_exactly_what_the_build_command_produces() -> None:
    assert build_breached_list() == BREACHED_LIST_PATH.read_bytes(), (
        "run `manage.py build_breached_passwords` and commit the file"
    )


@pytest.mark.parametrize("password", BREACHED)
def test_breached_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BreachedPasswordValidator().validate(password)
    assert caught.value.code == "password_breached"


@pytest.mark.parametrize("password", STRONG)
def test_unbreached_passwords_pass(password: str) -> None:
    BreachedPasswordValidator().validate(password)


def test_a_custom_list_path_is_honoured(tmp_path: Any) -> None:
    digest = sha1_hex("tangerine lighthouse orbit")[:DIGEST_HEX_CHARS]
    custom = tmp_path / "list.txt.gz"
    custom.write_bytes(gzip.compress(f"{digest}\n".encode()))
    with pytest.raises(ValidationError):
        BreachedPasswordValidator(str(custom)).validate("Tangerine Lighthouse Orbit")
    BreachedPasswordValidator(str(custom)).validate("password1234")
    load_breached_digests.cache_clear()


# --- the policy through the API ------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password1234", "iloveyou2020!", "monkeymonkey"])
def test_register_refuses_breached_passwords_and_creates_nothing(password: str) -> None:
    response = register(password)
    assert response.status_code == 400
    messages = response.json()["fields"]["password"]
    assert any("breach" in message for message in messages)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("length", "accepted"), [(11, False), (12, True), (64, True), (128, True), (129, False)]
)
def test_length_limits(length: int, accepted: bool) -> None:
    password = ("quiet harbour lantern " * 10)[:length]
    assert len(password) == length
    response = register(password)
    assert (response.status_code == 201) is accepted, response.content
    assert User.objects.exists() is accepted


@pytest.mark.parametrize(
    "password",
    [
        "onlylowercaseletterswords",  # no digit, symbol or capital required
        "ALLCAPITALSNOTHINGELSE",
        "982347109238471092",  # digits only, not a run
        "émigré naïveté façade",  # unicode
        "spaces are fine in here",
    ],
)
def test_no_composition_rules(password: str) -> None:
    assert register(password).status_code == 201


def test_change_password_requires_the_current_password(user: User) -> None:
    client = bearer(tokens_for(user.email)["access"])
    new = "tangerine lighthouse orbit"
    missing = client.post("/api/v1/auth/change-password", {"new_password": new})
    assert missing.status_code == 400
    assert "current_password" in missing.json()["fields"]
    wrong = client.post(
        "/api/v1/auth/change-password", {"current_password": "not it at all", "new_password": new}
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    breached = client.post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "password1234"},
    )
    assert breached.status_code == 400
    assert "new_password" in breached.json()["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    ok = client.post(
        "/api/v1/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": new}
    )
    assert ok.status_code == 204
    user.refresh_from_db()
    assert user.check_password(new)


# --- the online check (a real HTTP server on this machine stands in for the range API) ---------


class RangeServer:
    def __init__(self, breached: dict[str, int]) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        hashes = {sha1_hex(p): n for p, n in breached.items()}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append((self.path, dict(self.headers)))
                prefix = self.path.rsplit("/", 1)[-1]
                lines = [f"{h[5:]}:{n}" for h, n in hashes.items() if h.startswith(prefix)]
                lines += [f"{'0' * 35}:0"]  # padding, as the real service adds
                body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RangeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    with RangeServer({"Tangerine Lighthouse Orbit": 3}) as server:
        yield server


def test_online_check_is_off_by_default(range_server: RangeServer) -> None:
    with override_settings(HIBP_API_URL=range_server.url):
        assert register("Tangerine Lighthouse Orbit").status_code == 201
    assert range_server.requests == []


def test_online_check_refuses_what_the_service_knows_sending_only_a_prefix(
    range_server: RangeServer,
) -> None:
    with override_settings(HIBP_ONLINE=True, HIBP_API_URL=range_server.url):
        refused = register("Tangerine Lighthouse Orbit", email="a@example.com")
        accepted = register("tangerine lighthouse orbit", email="b@example.com")
    assert refused.status_code == 400
    assert any("breach" in m for m in refused.json()["fields"]["password"])
    assert accepted.status_code == 201
    full = sha1_hex("Tangerine Lighthouse Orbit")
    paths = [path for path, _ in range_server.requests]
    assert f"/range/{full[:5]}" in paths
    for path, headers in range_server.requests:
        assert len(path.rsplit("/", 1)[-1]) == 5
        assert full[5:] not in path
        assert "Tangerine" not in path
        assert headers.get("Add-Padding") == "true"


def test_online_check_fails_open_with_a_warning_when_the_service_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with RangeServer({}) as server:
        dead_url = server.url
    caplog.set_level(logging.WARNING, logger="apps.accounts.passwords")
    with override_settings(HIBP_ONLINE=True, HIBP_API_URL=dead_url, HIBP_TIMEOUT_SECONDS=1):
        assert register("Tangerine Lighthouse Orbit").status_code == 201
        # The offline list still applies.
        assert register("password1234", email="x@example.com").status_code == 400
    assert any(r.getMessage() == "breached-password service unavailable" for r in caplog.records)
    assert "Tangerine" not in caplog.text


def test_passwords_are_verified_exactly_as_typed_spaces_included() -> None:
    """ASVS 6.2.8: no trimming or other change on the way in, at sign-up and at login."""
    padded = "  tangerine lighthouse orbit  "
    response = register(padded, email="padded@example.com")
    assert response.status_code == 201, response.content
    user = User.objects.get(email="padded@example.com")
    assert user.check_password(padded)
    assert not user.check_password(padded.strip())

    def login(password: str) -> int:
        return int(
            APIClient()
            .post("/api/v1/auth/login", {"email": user.email, "password": password}, format="json")
            .status_code
        )

    assert login(padded.strip()) == 401
    assert login(padded + " ") == 401
    assert login(padded) == 200
