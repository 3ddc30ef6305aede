"""The TypeScript client's freshness check (scripts/client.py, run by `make test`), on a copy of
clients/typescript/ in a temporary folder: it passes on a fresh client and names what to do on a
stale one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import client

CLIENT_DIR = Path(client.CLIENT_DIR)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """clients/typescript/ without node_modules (linked back when installed, so the Node steps
    do not download anything)."""
    target = tmp_path / "typescript"
    shutil.copytree(CLIENT_DIR, target, ignore=shutil.ignore_patterns("node_modules"))
    if (CLIENT_DIR / "node_modules").is_dir():
        (target / "node_modules").symlink_to(CLIENT_DIR / "node_modules")
    return target


def committed_schema(folder: Path) -> str:
    return (folder / client.SCHEMA_FILE).read_text()


def with_new_path(schema_text: str) -> str:
    schema = json.loads(schema_text)
    schema["paths"]["/api/v1/added"] = {
        "get": {"operationId": "added", "responses": {"204": {"description": "nothing"}}}
    }
    return json.dumps(schema, indent=2) + "\n"


def test_a_client_generated_from_the_schema_passes(copy: Path) -> None:
    result = client.check(copy, schema_text=committed_schema(copy))

    assert result.ok, result.problems


def test_a_schema_change_without_regenerating_fails(copy: Path) -> None:
    result = client.check(copy, schema_text=with_new_path(committed_schema(copy)))

    assert not result.ok
    assert "openapi.json differs from the API's schema; run `make client`" in result.problems[0]
    assert '+    "/api/v1/added": {' in result.problems[0]  # the diff shows what changed


def test_a_new_schema_with_the_old_types_fails(copy: Path) -> None:
    changed = with_new_path(committed_schema(copy))
    (copy / client.SCHEMA_FILE).write_text(changed)

    result = client.check(copy, schema_text=changed)

    assert result.problems == [
        "src/schema.d.ts was not generated from the committed openapi.json; run `make client` "
        "and commit clients/typescript/."
    ]


def test_main_exits_non_zero_on_a_stale_client(
    copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(client, "render_schema", lambda: with_new_path(committed_schema(copy)))

    assert client.main(["check", "--dir", str(copy)]) == 1
    assert "run `make client`" in capsys.readouterr().err


def test_the_schema_is_the_production_api_rendered_the_same_every_time() -> None:
    first = client.render_schema()

    schema = json.loads(first)
    assert "/api/v1/dashboard" in schema["paths"]
    assert not [path for path in schema["paths"] if "bench" in path]  # development only
    assert client.render_schema() == first


needs_node = pytest.mark.skipif(
    shutil.which("npm") is None or not (CLIENT_DIR / "node_modules" / ".bin").is_dir(),
    reason="the client's node_modules are not installed (`make client` installs them)",
)


@needs_node
def test_with_node_a_hand_edit_of_the_types_fails(copy: Path) -> None:
    types = copy / client.TYPES_FILE
    types.write_text(types.read_text().replace("overall_progress:", "overall_progres:", 1))

    result = client.check(copy, schema_text=committed_schema(copy), with_node=True)

    assert any("differs from what openapi-typescript makes" in p for p in result.problems)
    # ...and the dashboard example no longer type-checks against the edited types.
    assert any("does not type-check" in p and "overall_progress" in p for p in result.problems)


@needs_node
def test_with_node_a_generated_client_type_checks(copy: Path) -> None:
    client.generate(copy, schema_text=with_new_path(committed_schema(copy)))

    result = client.check(copy, schema_text=with_new_path(committed_schema(copy)), with_node=True)
    assert result.ok, result.problems
    assert '"/api/v1/added": {' in (copy / client.TYPES_FILE).read_text()


def test_make_test_checks_the_client_and_ci_adds_the_node_steps() -> None:
    def check_command(**env: str) -> list[str]:
        done = subprocess.run(
            ["make", "-n", "test"],
            cwd=client.ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.splitlines()
        return [line.split("/bin/python ", 1)[1].strip() for line in lines if "client.py" in line]

    assert check_command(CLIENT_CHECK_NODE="") == ["scripts/client.py check"]
    assert check_command(CLIENT_CHECK_NODE="1") == ["scripts/client.py check --require-node"]
