"""Readers for the deployment files (Dockerfile, docker-compose.yml, deploy/kubernetes) and for
the environment variables the code reads, shared by the deployment tests.

Environment variables are found in the source, not by running it: every call of
``env("NAME")``, ``env.<cast>("NAME")`` (django-environ), ``os.environ.get("NAME")``,
``os.getenv("NAME")`` and ``os.environ["NAME"]`` with a literal name.
"""

from __future__ import annotations

import ast
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_BASE = ROOT / "deploy" / "kubernetes" / "base"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# What production runs: the settings it loads (base + production) and the gunicorn settings.
PRODUCTION_SETTINGS = (
    ROOT / "config" / "settings" / "base.py",
    ROOT / "config" / "settings" / "production.py",
    ROOT / "config" / "gunicorn.py",
)
# Besides the settings, the application code itself reads a few (metrics, tracing, seeding).
RUNTIME_SOURCES = (*PRODUCTION_SETTINGS, *sorted((ROOT / "apps").rglob("*.py")))

# Read by libraries, not by our code.
LIBRARY_VARIABLES = {
    "DJANGO_SETTINGS_MODULE": "Django: which settings module to load",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client: where worker processes write their metrics",
}


def _literal_name(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def variables_read_by(path: Path) -> set[str]:
    """The environment variables ``path`` reads by a literal name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            reads = (
                (isinstance(func, ast.Name) and func.id == "env")  # env("X")
                or (  # env.int("X"), env.bool("X"), env.db("X"), ...
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "env"
                    and func.attr != "read_env"
                )
                or (  # os.environ.get("X")
                    isinstance(func, ast.Attribute)
                    and func.attr == "get"
                    and _is_os_environ(func.value)
                )
                or (  # os.getenv("X")
                    isinstance(func, ast.Attribute)
                    and func.attr == "getenv"
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "os"
                )
            )
            name = _literal_name(node.args[0]) if reads else None
            if name:
                names.add(name)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            name = _literal_name(node.slice)
            if name:
                names.add(name)
    return names


@cache
def settings_variables() -> frozenset[str]:
    """Every variable the production settings (and gunicorn's) read."""
    return frozenset(name for path in PRODUCTION_SETTINGS for name in variables_read_by(path))


@cache
def runtime_variables() -> frozenset[str]:
    """Every variable anything running in production reads: settings, apps, libraries."""
    found = {name for path in RUNTIME_SOURCES for name in variables_read_by(path)}
    return frozenset(found | LIBRARY_VARIABLES.keys())


# --- Dockerfile and docker-compose -----------------------------------------------------------


def dockerfile_cmd() -> list[str]:
    """The image's CMD (exec form)."""
    commands = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD ")]
    assert len(commands) == 1, commands
    value = yaml.safe_load(commands[0][len("CMD ") :])
    assert isinstance(value, list), "CMD must be in exec form"
    return [str(part) for part in value]


@cache
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    assert isinstance(services, dict)
    return services


def command_words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def queues_of(words: list[str]) -> tuple[str, ...]:
    """The queues a ``celery worker`` command line consumes (its ``-Q``)."""
    for flag in ("-Q", "--queues"):
        if flag in words:
            return tuple(words[words.index(flag) + 1].split(","))
    for word in words:
        if word.startswith("--queues="):
            return tuple(word.split("=", 1)[1].split(","))
    raise AssertionError(f"a worker without -Q consumes every queue: {words}")


CELERY_SCRIPT = "scripts/celery.sh"


def is_celery(words: list[str]) -> bool:
    """Celery itself, or through the script the deployments start it with."""
    return "celery" in words or CELERY_SCRIPT in words


def is_worker(words: list[str]) -> bool:
    return is_celery(words) and "worker" in words


def is_beat(words: list[str]) -> bool:
    return is_celery(words) and "beat" in words


def compose_worker_queues() -> dict[str, tuple[str, ...]]:
    """Worker service name -> the queues it consumes."""
    groups = {}
    for name, service in compose_services().items():
        words = command_words(service.get("command", []))
        if is_worker(words):
            groups[name] = queues_of(words)
    return groups


# --- Kubernetes ------------------------------------------------------------------------------


@cache
def kustomization() -> dict[str, Any]:
    loaded = yaml.safe_load((KUSTOMIZE_BASE / "kustomization.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def kubernetes_files() -> list[Path]:
    return [KUSTOMIZE_BASE / name for name in kustomization()["resources"]]


@cache
def kubernetes_resources() -> tuple[dict[str, Any], ...]:
    """Every resource of the kustomize base, in file order."""
    found: list[dict[str, Any]] = []
    for path in kubernetes_files():
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return tuple(found)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [r for r in kubernetes_resources() if r["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in of_kind(kind) if r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = resource["spec"]["template"]["spec"]
    return spec


def containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(resource)
    return [*spec.get("initContainers", []), *spec["containers"]]


def main_container(resource: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = pod_spec(resource)["containers"][0]
    return found


def container_words(container: dict[str, Any]) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


def kubernetes_worker_queues() -> dict[str, tuple[str, ...]]:
    """Worker Deployment name -> the queues it consumes."""
    groups = {}
    for deployment in of_kind("Deployment"):
        words = container_words(main_container(deployment))
        if is_worker(words):
            groups[deployment["metadata"]["name"]] = queues_of(words)
    return groups


def secret_refs(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Variable -> its secretKeyRef, for the container's env entries taken from a Secret."""
    return {
        entry["name"]: entry["valueFrom"]["secretKeyRef"]
        for entry in container.get("env", [])
        if "secretKeyRef" in entry.get("valueFrom", {})
    }


def literal_env(container: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container.get("env", []) if "value" in entry}


def interpolated(text: str) -> set[str]:
    """``$(VAR)`` references Kubernetes expands in a command."""
    return set(re.findall(r"\$\(([A-Z_][A-Z0-9_]*)\)", text))
