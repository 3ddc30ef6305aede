"""Demo resources from ``demo_content/resources.json``; creates only what is missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from apps.resources.services import ensure_resource
from apps.taxonomy.models import Category

DEMO_FILE = Path(__file__).resolve().parent / "demo_content" / "resources.json"


def seed_demo(*, stdout: Any, path: Path | None = None) -> None:
    source = path or DEMO_FILE
    if not source.exists():
        stdout.write(f"resources: no demo content at {source}")
        return
    rows = json.loads(source.read_text(encoding="utf-8"))
    categories = {c.slug: c for c in Category.objects.all()}
    created = skipped = 0
    for order, row in enumerate(rows):
        try:
            _, was_created = ensure_resource(
                kind=row["kind"],
                title=row["title"],
                author=row.get("author", ""),
                description=row.get("description", ""),
                duration_sec=row.get("duration_sec"),
                category=categories.get(row.get("category") or ""),
                url=row["url"],
                thumbnail_url=row.get("thumbnail_url", ""),
                captions_url=row.get("captions_url", ""),
                alt_text=row.get("alt_text", "") or row["title"],
                is_featured=bool(row.get("is_featured", False)),
                order=order,
            )
        except (ValidationError, KeyError) as exc:
            skipped += 1
            stdout.write(f"resources: skipped {row.get('title', '?')!r}: {exc}")
            continue
        created += was_created
    stdout.write(f"resources: {len(rows)} in demo content, {created} created, {skipped} skipped")
