"""Demo syllabus from ``demo_content/categories.json``: creates what is missing, never
overwrites what staff have edited, so running it again changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.taxonomy.services import ensure_category, ensure_subcategory

DEMO_FILE = Path(__file__).resolve().parent / "demo_content" / "categories.json"


def seed_demo(*, stdout: Any, path: Path | None = None) -> None:
    source = path or DEMO_FILE
    if not source.exists():
        stdout.write(f"taxonomy: no demo content at {source}")
        return
    rows = json.loads(source.read_text(encoding="utf-8"))
    new_categories = new_subcategories = 0
    for index, row in enumerate(rows):
        category, created = ensure_category(
            slug=row["slug"],
            name=row["name"],
            description=row.get("description", ""),
            order=int(row.get("order", index)),
        )
        new_categories += created
        for sub_index, sub in enumerate(row.get("subcategories", [])):
            _, sub_created = ensure_subcategory(
                category=category, slug=sub["slug"], name=sub["name"], order=sub_index
            )
            new_subcategories += sub_created
    stdout.write(
        f"taxonomy: {len(rows)} categories in demo content, "
        f"{new_categories} categories and {new_subcategories} subcategories created"
    )
