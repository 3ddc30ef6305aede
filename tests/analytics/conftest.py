from __future__ import annotations

from typing import Any

import pytest

from apps.taxonomy.models import Category
from tests.taxonomy.factories import CategoryFactory


@pytest.fixture
def categories(db: Any) -> list[Category]:
    return [CategoryFactory(name=f"Topic {i}", slug=f"topic-{i}", order=i) for i in range(3)]
