"""The calibration reads its first attempts as columns (binary COPY parsed by NumPy); the
report reads them as rows. Both must give the fit the very same arrays."""

from __future__ import annotations

import numpy as np

from apps.analytics.first_attempts import latest_fact_id
from apps.readiness.services.calibration import (
    all_first_attempt_columns,
    all_first_attempts,
    collect,
    collect_columns,
)
from tests.readiness.test_report import fresh_model, sat_mocks  # noqa: F401
from tests.readiness.world import World


def test_columns_and_rows_collect_the_same_responses(sat_mocks: World) -> None:  # noqa: F811
    top = latest_fact_id()
    from_rows = collect(all_first_attempts(up_to_fact_id=top))
    from_columns = collect_columns(all_first_attempt_columns(up_to_fact_id=top))
    assert len(from_rows.responses.person) > 1000
    for name in ("person", "item", "correct"):
        assert np.array_equal(
            getattr(from_rows.responses, name), getattr(from_columns.responses, name)
        ), name
    assert from_rows.responses.n_persons == from_columns.responses.n_persons
    assert from_rows.responses.n_items == from_columns.responses.n_items
    assert from_rows.user_ids == from_columns.user_ids
    assert from_rows.items == from_columns.items
    assert from_rows.category_counts == from_columns.category_counts
    assert from_rows.last_answered_at == from_columns.last_answered_at
