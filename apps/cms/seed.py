"""Demo pages (privacy, terms, ...) from ``demo_content/pages.json``; creates only what is
missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.cms.services import ensure_page

DEMO_FILE = Path(__file__).resolve().parent / "demo_content" / "pages.json"


def seed_demo(*, stdout: Any, path: Path | None = None) -> None:
    source = path or DEMO_FILE
    if not source.exists():
        stdout.write(f"cms: no demo content at {source}")
        return
    rows = json.loads(source.read_text(encoding="utf-8"))
    created = sum(
        ensure_page(slug=row["slug"], title=row["title"], body=row.get("body", ""))[1]
        for row in rows
    )
    stdout.write(f"cms: {len(rows)} pages in demo content, {created} created")
