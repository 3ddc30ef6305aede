"""The kustomize base (deploy/kubernetes/base) is valid Kubernetes and says what it means to.

Every resource is validated against the Kubernetes OpenAPI schema shipped in the
``kubernetes-validate`` package (no network; strict: unknown fields are errors). The rest holds
the manifests to the code: commands, probes on the real health endpoints, one Beat, a worker
Deployment per queue group, and every environment variable of the settings in the ConfigMap or
taken from the Secret.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import environ
import kubernetes_validate
import pytest
from django.urls import reverse

from tests.deploy.manifests import (
    CELERY_SCRIPT,
    KUSTOMIZE_BASE,
    PRODUCTION_SETTINGS,
    command_words,
    compose_services,
    container_words,
    containers,
    dockerfile_cmd,
    is_beat,
    is_worker,
    kubernetes_files,
    kubernetes_resources,
    kustomization,
    literal_env,
    main_container,
    named,
    of_kind,
    pod_spec,
    runtime_variables,
    secret_refs,
    settings_variables,
)

KUBERNETES_VERSION = "1.33.0"  # the oldest minor version the base must run on
SECRET = "openmrcs-secrets"
CONFIG_MAP = "openmrcs-config"
# Taken from the Secret: required (the app cannot start without them) and optional (a feature
# that is off, or a default, when absent).
REQUIRED_SECRETS = {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
OPTIONAL_SECRETS = {
    "DATABASE_REPLICA_URL",
    "JWT_SIGNING_KEY",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "SENTRY_DSN",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "METRICS_TOKEN",
}
# Read by the settings but never set in production, each for a reason.
NOT_SET_IN_PRODUCTION = {
    "DJANGO_DEBUG": "config/settings/production.py sets DEBUG = False whatever it says",
    "ADMIN_REQUIRE_OTP": "config/settings/production.py requires the admin's TOTP always",
    "SLOW_QUERY_MS": "development's slow statement log; off unless set",
    "TEST_DATABASE_NAME": "the tests' database name",
}
# ConfigMap values production chooses instead of the settings' default.
PRODUCTION_CHOICES = {
    "DJANGO_ALLOWED_HOSTS",
    "CELERY_TASK_ALWAYS_EAGER",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_TRUSTED_ORIGINS",
    "FRONTEND_URL",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "ENVIRONMENT",
    "FORWARDED_ALLOW_IPS",
    "WEB_CONCURRENCY",
}
APP_DEPLOYMENTS = ("web", "worker-exams", "worker-default", "worker-fanout", "worker-analytics")


def app_workloads() -> list[dict[str, Any]]:
    return [*of_kind("Deployment"), *of_kind("Job")]


def config_map() -> dict[str, str]:
    data: dict[str, str] = named("ConfigMap", CONFIG_MAP)["data"]
    return data


# --- Schema ----------------------------------------------------------------------------------


def test_every_yaml_file_of_the_base_is_a_resource_of_the_kustomization() -> None:
    listed = {path.name for path in kubernetes_files()}
    present = {p.name for p in KUSTOMIZE_BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    assert kustomization()["kind"] == "Kustomization"


@pytest.mark.parametrize("version", [KUBERNETES_VERSION, kubernetes_validate.latest_version()])
def test_every_resource_is_valid_against_the_kubernetes_schema(version: str) -> None:
    kinds = set()
    for resource in kubernetes_resources():
        kubernetes_validate.validate(resource, version, strict=True)
        kinds.add(resource["kind"])
    assert kinds >= {
        "Deployment",
        "Job",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    }


def test_the_validator_rejects_what_kubernetes_would() -> None:
    web = copy.deepcopy(named("Deployment", "web"))
    web["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)
    web = copy.deepcopy(named("Deployment", "web"))
    main_container(web)["livenessProbe"]["httpGet"]["pathh"] = "/typo"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


# --- Workloads -------------------------------------------------------------------------------


def test_web_runs_the_images_gunicorn_command_and_scales_on_cpu() -> None:
    web = named("Deployment", "web")
    assert main_container(web)["command"] == dockerfile_cmd()
    hpa = named("HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    # The autoscaler computes utilisation against the request: it must be set.
    assert main_container(web)["resources"]["requests"]["cpu"]


def test_web_probes_ask_the_real_health_endpoints_as_the_proxy_would() -> None:
    container = main_container(named("Deployment", "web"))
    live, ready = reverse("core:health-live"), reverse("core:health")
    assert container["livenessProbe"]["httpGet"]["path"] == live
    assert container["startupProbe"]["httpGet"]["path"] == live
    assert container["readinessProbe"]["httpGet"]["path"] == ready
    allowed = config_map()["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed, probe  # else Django answers 400 (DisallowedHost)
        assert headers["X-Forwarded-Proto"] == "https", probe  # else the HTTPS redirect does


def test_one_worker_deployment_per_queue_group_and_one_beat_recreated() -> None:
    workers = [d for d in of_kind("Deployment") if is_worker(container_words(main_container(d)))]
    assert sorted(d["metadata"]["name"] for d in workers) == sorted(APP_DEPLOYMENTS[1:])
    beats = [d for d in of_kind("Deployment") if is_beat(container_words(main_container(d)))]
    assert [b["metadata"]["name"] for b in beats] == ["beat"]
    beat = beats[0]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not [
        h
        for h in of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == "beat"
    ]


def test_workers_and_beat_start_through_the_script_that_empties_the_metrics_directory() -> None:
    for deployment in of_kind("Deployment"):
        container = main_container(deployment)
        command = container_words(container)
        if is_worker(command) or is_beat(command):
            assert command[:2] == ["sh", CELERY_SCRIPT], deployment["metadata"]["name"]
        if is_worker(command):
            env = literal_env(container)
            assert env["CELERY_METRICS_PORT"] == str(container["ports"][0]["containerPort"])
            assert env["PROMETHEUS_MULTIPROC_DIR"]


def test_beat_liveness_reads_the_heartbeat_of_its_own_schedule_file() -> None:
    container = main_container(named("Deployment", "beat"))
    schedule = next(w for w in container["command"] if w.startswith("--schedule="))
    schedule_file = schedule.split("=", 1)[1]
    probe = container["livenessProbe"]["exec"]["command"]
    assert probe[:3] == ["python", "-m", "apps.core.beat"]
    assert probe[3] == f"{schedule_file}.heartbeat"
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert str(Path(schedule_file).parent) in mounts  # writable for the non-root user


def test_migration_job_and_everything_else_waits_for_it() -> None:
    job = named("Job", "migrate")
    assert main_container(job)["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    for deployment in of_kind("Deployment"):
        init = pod_spec(deployment)["initContainers"]
        assert "migrate --check" in " ".join(init[0]["command"]), deployment["metadata"]["name"]


def test_every_container_has_requests_and_a_memory_limit() -> None:
    for workload in app_workloads():
        for container in containers(workload):
            resources = container["resources"]
            assert resources["requests"]["cpu"]
            assert resources["requests"]["memory"]
            assert resources["limits"]["memory"], container["name"]


def test_disruption_budgets_cover_the_replicated_deployments() -> None:
    budgets = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for p in of_kind("PodDisruptionBudget")
    }
    replicated = {
        d["metadata"]["name"] for d in of_kind("Deployment") if d["spec"].get("replicas", 1) > 1
    }
    assert replicated <= budgets
    assert "web" in budgets
    assert "worker-exams" in budgets
    for budget in of_kind("PodDisruptionBudget"):
        target = named(
            "Deployment", budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        )
        # A budget of every replica would block every node drain.
        assert budget["spec"]["minAvailable"] < target["spec"]["replicas"]


def test_selectors_match_their_pods() -> None:
    for deployment in of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = named("Service", "web")
    web_labels = named("Deployment", "web")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= web_labels.items()


def test_every_container_runs_as_the_images_non_root_user() -> None:
    for workload in app_workloads():
        assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True
        assert pod_spec(workload)["securityContext"]["runAsUser"] == 10001  # the Dockerfile's
        for container in containers(workload):
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


# --- Environment -----------------------------------------------------------------------------


def _defaults() -> dict[str, tuple[str, Any]]:
    """Variable -> (django-environ cast, literal default) for each settings read with one."""
    found: dict[str, tuple[str, Any]] = {}
    for path in PRODUCTION_SETTINGS:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "env":
                cast = "str"
            elif isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "env":
                cast = func.attr
            elif isinstance(func, ast.Attribute) and func.attr == "get" and len(node.args) == 2:
                cast = "str"  # os.environ.get("X", "default")
                if isinstance(node.args[1], ast.Constant):
                    found.setdefault(str(node.args[0].value), (cast, node.args[1].value))
                continue
            else:
                continue
            for keyword in node.keywords:
                if keyword.arg == "default":
                    try:
                        value = eval(  # noqa: S307 - constants and arithmetic on them only
                            compile(ast.Expression(keyword.value), "<default>", "eval"),
                            {"__builtins__": {}},
                        )
                    except NameError:
                        continue  # a default computed from another setting
                    found.setdefault(str(node.args[0].value), (cast, value))
    return found


def _parse(value: str, cast: str) -> Any:
    casts = {"str": str, "int": int, "float": float, "bool": bool, "list": list}
    return environ.Env.parse_value(value, casts[cast])


def test_every_setting_is_in_the_config_map_or_the_secret() -> None:
    for workload in app_workloads():
        for container in containers(workload):
            refs = secret_refs(container)
            assert set(refs) == REQUIRED_SECRETS | OPTIONAL_SECRETS, container["name"]
            for name, ref in refs.items():
                assert (ref["name"], ref["key"]) == (SECRET, name)
                assert ref.get("optional", False) is (name in OPTIONAL_SECRETS), name
            assert container["envFrom"] == [{"configMapRef": {"name": CONFIG_MAP}}]
    provided = set(config_map()) | REQUIRED_SECRETS | OPTIONAL_SECRETS
    assert sorted(settings_variables() - provided - NOT_SET_IN_PRODUCTION.keys()) == []
    assert not provided & NOT_SET_IN_PRODUCTION.keys()


def test_the_config_map_sets_only_what_the_code_reads() -> None:
    assert sorted(set(config_map()) - runtime_variables()) == []
    assert not set(config_map()) & (REQUIRED_SECRETS | OPTIONAL_SECRETS)
    for workload in app_workloads():
        for container in containers(workload):
            assert sorted(set(literal_env(container)) - runtime_variables()) == []


def test_config_map_values_parse_as_the_settings_read_them_and_keep_their_defaults() -> None:
    defaults = _defaults()
    for name, value in config_map().items():
        if name not in defaults:
            continue
        cast, default = defaults[name]
        parsed = _parse(value, cast)
        if name in PRODUCTION_CHOICES:
            continue
        if default is None:
            pytest.fail(f"{name}: the settings default is None; no value in the ConfigMap says so")
        expected = type(parsed)(default) if cast in ("int", "float") else default
        assert parsed == expected, f"{name}: {value!r} is not the settings' default {default!r}"
    # And the chosen ones are real choices (where the default is a constant).
    for name in PRODUCTION_CHOICES & defaults.keys():
        cast, default = defaults[name]
        assert _parse(config_map()[name], cast) != default, name


def test_compose_and_kubernetes_run_the_same_processes() -> None:
    compose_commands = {
        name: command_words(service["command"])
        for name, service in compose_services().items()
        if "command" in service and name not in ("redis", "broker")
    }
    kube_commands = {
        d["metadata"]["name"]: container_words(main_container(d)) for d in of_kind("Deployment")
    }
    kube_commands["migrate"] = main_container(named("Job", "migrate"))["command"]
    assert compose_commands["web"] == kube_commands["web"] == dockerfile_cmd()
    assert compose_commands["migrate"] == kube_commands["migrate"]
    for name in APP_DEPLOYMENTS[1:]:
        compose_words = [w for w in compose_commands[name] if not w.startswith("--concurrency")]
        kube_words = [w for w in kube_commands[name] if not w.startswith("--concurrency")]
        assert compose_words == kube_words, name
