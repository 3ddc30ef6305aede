"""``GET /metrics``: the Prometheus exposition, for allowed scrapers only."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core.observability.metrics import exposition


@cache
def _allowed_networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def scrape_allowed(request: HttpRequest) -> bool:
    """A scraper is let in by its address (``METRICS_ALLOWED_IPS``: addresses or CIDR ranges)
    or, when ``METRICS_TOKEN`` is set, by ``Authorization: Bearer <token>``."""
    token: str = getattr(settings, "METRICS_TOKEN", "")
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, supplied = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            supplied.strip().encode(), token.encode()
        ):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    networks = _allowed_networks(tuple(getattr(settings, "METRICS_ALLOWED_IPS", ())))
    return any(address in network for network in networks)


@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``. Anyone not allowed gets the same 404 as for a missing page."""
    if request.method not in {"GET", "HEAD"} or not scrape_allowed(request):
        raise Http404
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
