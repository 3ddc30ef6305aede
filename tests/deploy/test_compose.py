"""docker-compose.yml and the Dockerfile, checked against the code they run: the migration runs
once before anything that uses the schema, web runs the image's one gunicorn command, every
queue has a worker group, Beat's health check reads its heartbeat, the broker keeps its queue
across a restart, and every variable compose sets is one the code reads."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.manifests import (
    CELERY_SCRIPT,
    ROOT,
    command_words,
    compose,
    compose_services,
    dockerfile_cmd,
    is_beat,
    is_worker,
    runtime_variables,
)

APP_IMAGE = "openmrcs:latest"


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's schema, as vendored by the check-jsonschema package."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def validate_compose(document: dict[str, Any]) -> None:
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(document)


def app_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose_services().items() if s.get("image") == APP_IMAGE}


def words(service: dict[str, Any]) -> list[str]:
    return command_words(service.get("command", []))


def test_the_file_is_valid_against_the_compose_specification() -> None:
    validate_compose(compose())


def test_the_compose_schema_rejects_a_misspelt_key() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["web"]["depend_on"] = broken["services"]["web"].pop("depends_on")
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)
    broken = copy.deepcopy(compose())
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)


def test_the_image_and_compose_share_one_gunicorn_command() -> None:
    assert dockerfile_cmd() == ["sh", "scripts/gunicorn.sh"]
    assert words(compose_services()["web"]) == dockerfile_cmd()
    script = (ROOT / "scripts" / "gunicorn.sh").read_text()
    # The script is the only place gunicorn is started, with the settings module of config/.
    assert re.search(r"^exec gunicorn -c python:config\.gunicorn ", script, re.MULTILINE)
    started_elsewhere = [
        path.name
        for path in (ROOT / "Dockerfile", ROOT / "docker-compose.yml")
        if re.search(r"\bgunicorn\s+-", path.read_text())
    ]
    assert started_elsewhere == []


def test_gunicorn_settings_serve_the_wsgi_app_with_the_metrics_hook() -> None:
    from apps.core.observability.gunicorn_hooks import child_exit
    from config import gunicorn

    assert gunicorn.wsgi_app == "config.wsgi:application"
    assert gunicorn.child_exit is child_exit
    assert gunicorn.bind == "0.0.0.0:8000"
    assert gunicorn.graceful_timeout < 40  # inside the web pods' termination grace period


def test_a_one_off_migration_runs_before_web_workers_and_beat() -> None:
    services = compose_services()
    migrate = services["migrate"]
    assert words(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    users = {n: s for n, s in app_services().items() if n != "migrate"}
    assert {"web", "beat"} <= users.keys()
    for name, service in users.items():
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "migrate" not in " ".join(words(service)), name  # nobody else migrates


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in compose_services().items():
        if name == "migrate":
            assert service["healthcheck"] == {"disable": True}
            continue
        check = service["healthcheck"]
        assert check["test"], name
        assert check["interval"], name
        assert check["retries"], name


def test_web_health_check_asks_the_readiness_endpoint() -> None:
    test = " ".join(compose_services()["web"]["healthcheck"]["test"])
    assert "/api/v1/health'" in test
    assert "X-Forwarded-Proto': 'https'" in test


def test_beat_is_one_service_whose_health_check_reads_its_heartbeat() -> None:
    beats = {n: s for n, s in compose_services().items() if is_beat(words(s))}
    assert list(beats) == ["beat"]
    beat = beats["beat"]
    schedule = next(w for w in words(beat) if w.startswith("--schedule="))
    test = beat["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "apps.core.beat"]
    assert test[4] == schedule.split("=", 1)[1] + ".heartbeat"
    assert "deploy" not in beat  # never scaled


def test_each_worker_group_names_its_node_for_its_health_check() -> None:
    workers = {n: s for n, s in compose_services().items() if is_worker(words(s))}
    assert len(workers) >= 4
    for name, service in workers.items():
        command = words(service)
        node = command[command.index("-n") + 1]
        assert node == f"{service['environment']['WORKER_NODE']}@%h", name
        assert "$${WORKER_NODE}@$$HOSTNAME" in service["healthcheck"]["test"][1], name


def test_the_broker_persists_and_never_evicts_and_is_apart_from_the_cache() -> None:
    services = compose_services()
    broker = services["broker"]["command"]
    assert broker[broker.index("--appendonly") + 1] == "yes"
    assert broker[broker.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(volume.endswith(":/data") for volume in services["broker"]["volumes"])
    assert "broker-data" in compose()["volumes"]
    env = services["web"]["environment"]
    assert env["CELERY_BROKER_URL"].startswith("redis://broker:")
    assert env["REDIS_URL"].startswith("redis://redis:")


def test_every_variable_compose_sets_is_read_by_the_code() -> None:
    # Read by the compose file's own health checks, not by the application.
    own = {"WORKER_NODE"}
    for name, service in app_services().items():
        unknown = set(service.get("environment", {})) - runtime_variables() - own
        assert sorted(unknown) == [], name


def test_every_app_service_runs_production_settings_with_a_real_broker() -> None:
    for name, service in app_services().items():
        env = service["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert env["CELERY_TASK_ALWAYS_EAGER"] == "false", name
        assert env["DATABASE_URL"].startswith("postgres://"), name


def test_workers_and_beat_start_through_the_script_that_empties_the_metrics_directory() -> None:
    for name, service in compose_services().items():
        command = words(service)
        if is_worker(command) or is_beat(command):
            assert command[:2] == ["sh", CELERY_SCRIPT], name
        if is_worker(command):
            env = service["environment"]
            assert env["CELERY_METRICS_PORT"], name
            # Else the pool processes' task counts are not visible (celery_signals warns).
            assert env["PROMETHEUS_MULTIPROC_DIR"], name


def test_the_celery_script_empties_the_metrics_directory_and_runs_celery(tmp_path: Path) -> None:
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left by the previous run")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    done = subprocess.run(
        ["sh", CELERY_SCRIPT, "--version"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert re.match(r"\d+\.\d+", done.stdout)  # celery answered
    assert metrics.is_dir()
    assert list(metrics.iterdir()) == []
