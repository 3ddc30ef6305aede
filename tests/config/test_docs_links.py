"""The repository's documents link only to files that are in it: the README, the changelogs,
docs/ and the client's README (a link outside the repository, or to a file that moved, fails)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = [
    ROOT_DIR / "README.md",
    ROOT_DIR / "CHANGELOG.md",
    ROOT_DIR / "clients" / "typescript" / "README.md",
    *sorted((ROOT_DIR / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


def local_targets(document: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(document.read_text())
        if not re.match(r"[a-z]+:|#", target)  # web addresses and anchors on the same page
    ]


def test_every_local_link_resolves_inside_the_repository() -> None:
    broken = []
    for document in DOCUMENTS:
        for target in local_targets(document):
            path = (document.parent / target.split("#", 1)[0]).resolve()
            if not path.exists() or not path.is_relative_to(ROOT_DIR):
                broken.append(f"{document.relative_to(ROOT_DIR)}: {target}")
    assert broken == []


def test_no_document_points_outside_the_repository() -> None:
    assert [str(d) for d in DOCUMENTS if "../shared/" in d.read_text()] == []


def test_the_readme_links_every_document() -> None:
    targets = set(local_targets(ROOT_DIR / "README.md"))
    documents = {f"docs/{path.name}" for path in (ROOT_DIR / "docs").glob("*.md")}
    assert documents - targets == set()
    assert {"CHANGELOG.md", ".env.example", "clients/typescript/README.md"} <= targets
