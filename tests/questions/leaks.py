"""The leak rule: no candidate-facing JSON carries the key or the explanation."""

from __future__ import annotations

import json
from typing import Any

FORBIDDEN_KEYS = {
    "is_correct",
    "explanation",
    "correct_option_ids",
    "correct_options",
    "answer_key",
    "key",
}


def forbidden_keys_in(payload: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in FORBIDDEN_KEYS:
                found.add(key)
            found |= forbidden_keys_in(value)
    elif isinstance(payload, list):
        for item in payload:
            found |= forbidden_keys_in(item)
    return found


def assert_no_leak(payload: Any, *, secrets: tuple[str, ...] = ()) -> None:
    """No forbidden key at any depth, and none of ``secrets`` (e.g. explanation texts)
    anywhere in the serialised body."""
    assert forbidden_keys_in(payload) == set(), payload
    text = json.dumps(payload)
    for secret in secrets:
        assert secret not in text
