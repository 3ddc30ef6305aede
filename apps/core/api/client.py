"""Facts about the calling client that views pass to services (never trusted blindly)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from rest_framework.request import Request


def client_ip(request: Request) -> str | None:
    """The client's IP: ``REMOTE_ADDR``, or the ``X-Forwarded-For`` entry set by our own
    proxies when ``REST_FRAMEWORK["NUM_PROXIES"]`` says how many there are. None if malformed."""
    candidate = request.META.get("REMOTE_ADDR", "")
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [part.strip() for part in forwarded.split(",")]
        candidate = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def user_agent(request: Request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
