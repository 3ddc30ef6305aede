"""The load generator's HTTP client: one keep-alive connection, and logging in."""

from __future__ import annotations

import http.client
import json
from typing import Any

from apps.bench.constants import BENCH_PASSWORD
from scripts.bench.environment import API


class HttpError(Exception):
    def __init__(self, method: str, path: str, status: int, body: bytes):
        super().__init__(f"{method} {path} -> {status}: {body[:300]!r}")
        self.status = status


class Client:
    """One keep-alive connection (reopened transparently when the server closes it: a sync
    gunicorn worker closes after every response)."""

    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection before this request.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        status, data = self.request(method, path, body)
        if status != expect:
            raise HttpError(method, path, status, data)
        return json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


def login(port: int, email: str) -> tuple[str, int]:
    client = Client(port)
    tokens = client.json("POST", f"{API}/auth/login", {"email": email, "password": BENCH_PASSWORD})
    client.token = tokens["access"]
    me = client.json("GET", f"{API}/me")
    client.close()
    return tokens["access"], int(me["id"])
