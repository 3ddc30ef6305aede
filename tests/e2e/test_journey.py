"""The web client's whole journey over real HTTP against a live server on the seeded bank."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from scripts.journey import run_journey

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_whole_candidate_journey_over_http(live_server: Any) -> None:
    call_command("seed", stdout=StringIO())
    run_journey(live_server.url)
