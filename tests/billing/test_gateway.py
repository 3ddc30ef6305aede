"""The gateway against a real HTTP server on this machine (``STRIPE_API_BASE``): the official
library sends what Stripe expects (form-encoded parameters, the secret key as bearer) and
Stripe's refusals become ``PaymentProviderUnavailable``. Nothing leaves the machine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from apps.billing import gateway
from apps.billing.exceptions import PaymentProviderUnavailable


@dataclass
class StripeServer:
    """Answers like Stripe's API: each path gets the next queued (status, body)."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def stripe_server(settings: Any) -> Iterator[StripeServer]:
    server_state = StripeServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            server_state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "form": {k: v[0] for k, v in parse_qs(body).items()},
                    "authorization": self.headers.get("Authorization"),
                }
            )
            status, reply = server_state.replies.pop(0)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = _answer
        do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.STRIPE_API_BASE = server_state.url
    settings.STRIPE_SECRET_KEY = "sk_test_gateway"
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()


ERROR = {"error": {"type": "invalid_request_error", "message": "No such price", "code": "x"}}


def test_checkout_session_carries_the_price_the_user_and_the_plan(
    stripe_server: StripeServer,
) -> None:
    stripe_server.replies.append(
        (200, {"id": "cs_1", "object": "checkout.session", "url": "https://checkout.test/cs_1"})
    )
    url = gateway.create_checkout_session(
        price_id="price_premium",
        user_id=7,
        plan_id=3,
        customer_id=None,
        customer_email="learner@example.com",
        success_url="https://app.example.com/ok",
        cancel_url="https://app.example.com/no",
    )
    assert url == "https://checkout.test/cs_1"
    [request] = stripe_server.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/checkout/sessions")
    assert request["authorization"] == "Bearer sk_test_gateway"
    assert request["form"] == {
        "mode": "subscription",
        "line_items[0][price]": "price_premium",
        "line_items[0][quantity]": "1",
        "client_reference_id": "7",
        "metadata[user_id]": "7",
        "metadata[plan_id]": "3",
        "subscription_data[metadata][user_id]": "7",
        "subscription_data[metadata][plan_id]": "3",
        "success_url": "https://app.example.com/ok",
        "cancel_url": "https://app.example.com/no",
        "customer_email": "learner@example.com",
    }


def test_a_returning_customer_is_named_instead_of_the_email(stripe_server: StripeServer) -> None:
    stripe_server.replies.append((200, {"id": "cs_2", "url": "https://checkout.test/cs_2"}))
    gateway.create_checkout_session(
        price_id="price_premium", user_id=7, plan_id=3, customer_id="cus_9",
        customer_email="learner@example.com", success_url="https://a/ok", cancel_url="https://a/no",
    )  # fmt: skip
    form = stripe_server.requests[0]["form"]
    assert form["customer"] == "cus_9"
    assert "customer_email" not in form


def test_portal_session(stripe_server: StripeServer) -> None:
    stripe_server.replies.append((200, {"id": "bps_1", "url": "https://portal.test/bps_1"}))
    url = gateway.create_portal_session(customer_id="cus_9", return_url="https://a/billing")
    assert url == "https://portal.test/bps_1"
    [request] = stripe_server.requests
    assert request["path"] == "/v1/billing_portal/sessions"
    assert request["form"] == {"customer": "cus_9", "return_url": "https://a/billing"}


def test_stripe_refusing_is_payment_provider_unavailable(stripe_server: StripeServer) -> None:
    stripe_server.replies.append((400, ERROR))
    with pytest.raises(PaymentProviderUnavailable):
        gateway.create_portal_session(customer_id="cus_9", return_url="https://a/billing")


def test_cancel_and_cancel_again(stripe_server: StripeServer) -> None:
    stripe_server.replies.append((200, {"id": "sub_1", "object": "subscription"}))
    stripe_server.replies.append((404, ERROR))  # already gone: nothing to do
    gateway.cancel_subscription(subscription_id="sub_1")
    gateway.cancel_subscription(subscription_id="sub_1")
    assert [(r["method"], r["path"]) for r in stripe_server.requests] == [
        ("DELETE", "/v1/subscriptions/sub_1"),
        ("DELETE", "/v1/subscriptions/sub_1"),
    ]


def test_no_secret_key_is_unavailable_without_a_call(
    stripe_server: StripeServer, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentProviderUnavailable):
        gateway.create_portal_session(customer_id="cus_9", return_url="https://a/billing")
    assert stripe_server.requests == []
