"""`make client` and its freshness check: the TypeScript client of the API from its schema.

    python scripts/client.py generate   # `make client`: write the schema, the types, type-check
    python scripts/client.py check      # part of `make test`: fail when the client is stale

``generate`` writes, in ``clients/typescript/``:

- ``openapi.json``: the OpenAPI schema the server publishes at ``/api/v1/schema``, rendered by
  drf-spectacular under the production settings (so development-only apps such as the
  benchmark's endpoints are never in it), in a clean environment so that no local variable
  changes a word of it;
- ``src/schema.d.ts``: TypeScript types from that file by the pinned openapi-typescript, with a
  first line recording the SHA-256 of the ``openapi.json`` it was made from;

then runs ``tsc --noEmit`` over the hand-written client (``src/index.ts``) and the examples.

``check`` fails (exit 1) when the committed ``openapi.json`` differs from the schema the code
produces now, or when ``src/schema.d.ts`` was not generated from that ``openapi.json``. Both
need only Python, so a machine without Node.js runs them too. With Node.js (``--require-node``,
which CI passes), it also regenerates the types into a temporary file, compares them byte for
byte and type-checks the client and the examples.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess  # nosec B404 # runs this project's own commands and the pinned npm tools
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT_DIR = ROOT / "clients" / "typescript"
SCHEMA_FILE = "openapi.json"
TYPES_FILE = "src/schema.d.ts"
HASH_PREFIX = "// openapi.json sha256: "
# Settings the schema is rendered under: production's app list and nothing from the caller's
# environment. The values are placeholders; nothing connects to them.
SCHEMA_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DATABASE_URL": "postgres://schema.invalid/openmrcs",
    "DJANGO_SECRET_KEY": "schema-rendering-only",
    "DJANGO_ALLOWED_HOSTS": "openmrcs.invalid",
    "PYTHONHASHSEED": "0",
    "PYTHONUTF8": "1",
}
REGENERATE = "run `make client` and commit clients/typescript/"


class ClientError(Exception):
    """A step of generating or checking the client failed; the message says which."""


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def render_schema() -> str:
    """The API's OpenAPI schema as the server publishes it, as indented JSON with a final
    newline (stable, so a diff of ``openapi.json`` shows exactly what changed)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **SCHEMA_ENV}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    done = subprocess.run(  # nosec B603
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--validate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        check=False,
    )
    if done.returncode != 0:
        raise ClientError(f"rendering the schema failed:\n{done.stderr}")
    if done.stderr.strip():  # drf-spectacular's warnings (the deploy check fails on them)
        print(done.stderr.strip(), file=sys.stderr)
    return json.dumps(json.loads(done.stdout), indent=2, ensure_ascii=False) + "\n"


def schema_hash(schema_text: str) -> str:
    return hashlib.sha256(schema_text.encode()).hexdigest()


def _npm_bin(client_dir: Path, tool: str) -> Path:
    return client_dir / "node_modules" / ".bin" / tool


def _run_node_tool(client_dir: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603
        args, cwd=client_dir, capture_output=True, text=True, check=False
    )


def ensure_node_modules(client_dir: Path) -> None:
    """``npm ci`` (the exact versions of ``package-lock.json``) unless it is already done for
    this lock file: npm keeps a copy of the lock it installed as
    ``node_modules/.package-lock.json``, and equal ``packages`` mean nothing to do."""
    npm = shutil.which("npm")
    if npm is None:
        raise ClientError("npm not found: Node.js 20 or later is needed to generate the client")
    installed = client_dir / "node_modules" / ".package-lock.json"
    if installed.is_file():
        lock = client_dir / "package-lock.json"
        wanted = json.loads(lock.read_text(encoding="utf-8"))["packages"]
        have = json.loads(installed.read_text(encoding="utf-8"))["packages"]
        if {k: v for k, v in wanted.items() if k} == have:
            return
    done = _run_node_tool(client_dir, [npm, "ci", "--no-audit", "--no-fund"])
    if done.returncode != 0:
        raise ClientError(f"npm ci failed:\n{done.stdout}{done.stderr}")


def render_types(client_dir: Path, schema_text: str) -> str:
    """``src/schema.d.ts`` for ``schema_text``: openapi-typescript's output under a first line
    with the schema's hash. ``--default-non-nullable false``: a request field with a default
    stays optional (the server fills it in), as drf-spectacular means it."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / SCHEMA_FILE
        target = Path(tmp) / "schema.d.ts"
        source.write_text(schema_text, encoding="utf-8")
        done = _run_node_tool(
            client_dir,
            [
                str(_npm_bin(client_dir, "openapi-typescript")),
                str(source),
                "--default-non-nullable",
                "false",
                "--output",
                str(target),
            ],
        )
        if done.returncode != 0:
            raise ClientError(f"openapi-typescript failed:\n{done.stdout}{done.stderr}")
        types = target.read_text(encoding="utf-8")
        return f"{HASH_PREFIX}{schema_hash(schema_text)}\n{types}"


def typecheck(client_dir: Path) -> None:
    """``tsc --noEmit`` over the client and ``examples/`` (tsconfig.json)."""
    done = _run_node_tool(
        client_dir, [str(_npm_bin(client_dir, "tsc")), "--noEmit", "-p", "tsconfig.json"]
    )
    if done.returncode != 0:
        raise ClientError(f"the client does not type-check:\n{done.stdout}{done.stderr}")


def generate(client_dir: Path = CLIENT_DIR, schema_text: str | None = None) -> None:
    schema_text = render_schema() if schema_text is None else schema_text
    ensure_node_modules(client_dir)
    (client_dir / SCHEMA_FILE).write_text(schema_text, encoding="utf-8")
    (client_dir / TYPES_FILE).write_text(render_types(client_dir, schema_text), encoding="utf-8")
    typecheck(client_dir)


def _diff_summary(old: str, new: str, name: str, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"{name} (committed)", f"{name} (now)", lineterm=""
        )
    )
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def check(
    client_dir: Path = CLIENT_DIR, *, schema_text: str | None = None, with_node: bool = False
) -> CheckResult:
    """Compares the committed client with the schema the code produces (``schema_text``,
    rendered when not given). ``with_node`` adds the regeneration and type-check steps."""
    result = CheckResult()
    schema_text = render_schema() if schema_text is None else schema_text
    schema_path = client_dir / SCHEMA_FILE
    types_path = client_dir / TYPES_FILE
    committed = schema_path.read_text(encoding="utf-8") if schema_path.is_file() else ""
    if committed != schema_text:
        result.problems.append(
            f"{SCHEMA_FILE} differs from the API's schema; {REGENERATE}.\n"
            + _diff_summary(committed, schema_text, SCHEMA_FILE)
        )
    types = types_path.read_text(encoding="utf-8") if types_path.is_file() else ""
    first_line = types.split("\n", 1)[0]
    if first_line != f"{HASH_PREFIX}{schema_hash(committed)}":
        result.problems.append(
            f"{TYPES_FILE} was not generated from the committed {SCHEMA_FILE}; {REGENERATE}."
        )
    if not with_node:
        result.notes.append(
            "types not regenerated and not type-checked (no --require-node); CI does both"
        )
        return result
    try:
        ensure_node_modules(client_dir)
        fresh = render_types(client_dir, schema_text)
        if fresh != types:
            result.problems.append(
                f"{TYPES_FILE} differs from what openapi-typescript makes of the schema; "
                f"{REGENERATE}.\n" + _diff_summary(types, fresh, TYPES_FILE)
            )
        typecheck(client_dir)
    except ClientError as exc:
        result.problems.append(str(exc))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="write openapi.json and src/schema.d.ts, then type-check")
    checker = sub.add_parser("check", help="fail when the committed client is stale")
    checker.add_argument(
        "--require-node",
        action="store_true",
        help="also regenerate the types with openapi-typescript and run tsc (needs npm)",
    )
    checker.add_argument("--dir", type=Path, default=CLIENT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            generate()
            print(f"client written to {CLIENT_DIR.relative_to(ROOT)}/ and type-checked")
            return 0
        outcome = check(args.dir, with_node=args.require_node)
    except ClientError as exc:
        print(f"client: {exc}", file=sys.stderr)
        return 1
    for note in outcome.notes:
        print(f"client check: {note}")
    if not outcome.ok:
        for problem in outcome.problems:
            print(f"client check: {problem}", file=sys.stderr)
        return 1
    print("client check: clients/typescript/ matches the API's schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
