""".env.example names every variable of the README's settings table, and each value it shows
is a default the settings really have (config/settings/*.py, read as source)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parent.parent.parent
SETTINGS_DIR = ROOT_DIR / "config" / "settings"
_CONSTANT_NODES = (
    ast.Expression,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.UnaryOp,
    ast.BinOp,
    ast.operator,
    ast.unaryop,
    ast.Load,
)


def readme_variables() -> set[str]:
    """The backticked names in the first column of the README's settings table."""
    text = (ROOT_DIR / "README.md").read_text()
    section = text.split("## Settings (environment variables)", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", line.split(" | ", 1)[0]))
    return names


def example_values() -> dict[str, str]:
    """``# NAME=value`` lines of .env.example (every one is commented out)."""
    values: dict[str, str] = {}
    for line in (ROOT_DIR / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            values[match[1]] = match[2]
    return values


def literal(node: ast.expr) -> tuple[bool, Any]:
    """(True, value) for a default made of constants only (``8 * 3600`` included)."""
    if not all(isinstance(n, _CONSTANT_NODES) for n in ast.walk(ast.Expression(node))):
        return False, None
    code = compile(ast.Expression(node), "<default>", "eval")
    return True, eval(code, {"__builtins__": {}})  # noqa: S307 # constants only, checked above


def settings_defaults() -> dict[str, list[Any]]:
    """Every ``env("NAME", default=...)`` / ``env.<type>(...)`` default with a constant value,
    per variable, across the settings modules (local settings may differ from base)."""
    found: dict[str, list[Any]] = {}
    for path in SETTINGS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            name = node.args[0]
            if not (is_env and isinstance(name, ast.Constant) and isinstance(name.value, str)):
                continue
            found.setdefault(name.value, [])
            for keyword in node.keywords:
                ok, value = literal(keyword.value) if keyword.arg == "default" else (False, None)
                if ok:
                    found[name.value].append(value)
    return found


def shown(value: Any) -> str:
    """A default as .env.example writes it (django-environ's syntax)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def test_every_variable_of_the_readme_table_is_in_the_example() -> None:
    values, settings_names = example_values(), set(settings_defaults())
    missing = []
    for name in sorted(readme_variables()):
        if name.endswith("*"):  # a family: all the members the settings read
            members = {n for n in settings_names if n.startswith(name[:-1])}
            members = members or {n for n in values if n.startswith(name[:-1])}
            missing += sorted(members - set(values)) or ([] if members else [name])
        elif name not in values:
            missing.append(name)
    assert missing == []


def test_the_values_shown_are_the_settings_defaults() -> None:
    defaults = settings_defaults()
    wrong = {
        name: (value, [shown(d) for d in defaults[name]])
        for name, value in example_values().items()
        if defaults.get(name)
        and not any(
            value == shown(d) or (isinstance(d, float) and value and float(value) == d)
            for d in defaults[name]
        )
    }
    assert wrong == {}


def test_the_check_reads_the_table_and_the_defaults() -> None:
    # The readers above find what they are meant to (so the two tests cannot pass vacuously).
    assert {"DATABASE_URL", "THROTTLE_*", "SEED_DEMO_PASSWORD"} <= readme_variables()
    assert settings_defaults()["EMAIL_VERIFICATION_MAX_AGE_SECONDS"] == [259200]
    assert shown(settings_defaults()["METRICS_ALLOWED_IPS"][0]) == "127.0.0.1,::1"
