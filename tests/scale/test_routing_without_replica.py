"""Without ``DATABASE_REPLICA_URL`` (the tests' own settings) the router and its marker change
nothing: every read and write on the primary, no read-your-writes mark left."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS

from apps.accounts.models import User
from apps.core.db_routing import (
    PrimaryReplicaRouter,
    read_alias,
    reading_from_replica,
    wrote_recently,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_without_a_replica_every_read_stays_on_the_primary(user: User) -> None:
    with reading_from_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert read_alias() == DEFAULT_DB_ALIAS
        assert User.objects.filter(pk=user.pk).exists()
    assert PrimaryReplicaRouter().db_for_read(User) == DEFAULT_DB_ALIAS


def test_no_mark_without_a_replica(user: User) -> None:
    client = client_for(user)
    assert client.post("/api/v1/analytics/heartbeat", {"seconds": 30}).status_code == 200
    assert not wrote_recently(user_id=user.pk)
