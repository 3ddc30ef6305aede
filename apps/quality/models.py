"""Item quality's own rows: statistics per question version and the re-key runs."""

from __future__ import annotations
