"""Every task has a queue, set in one place (config/celery.py ``TASK_QUEUES``), and every queue
has workers in each deployment (docker-compose.yml, deploy/kubernetes): a task without a route
would fall to ``default``, and a queue nobody consumes would hold its tasks for ever."""

from __future__ import annotations

import pytest

from config.celery import QUEUES, TASK_QUEUES
from config.celery import app as celery_app
from tests.deploy.manifests import compose_worker_queues, kubernetes_worker_queues


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """The project's tasks: those of the apps' task modules (Celery's own, and tasks a test
    module registers on the same app, are not deployed)."""
    celery_app.loader.import_default_modules()
    return {name for name, task in celery_app.tasks.items() if task.__module__.startswith("apps.")}


def test_every_registered_task_has_a_route(registered: set[str]) -> None:
    assert "exams.auto_submit_expired" in registered  # the apps' task modules were read
    assert sorted(registered - TASK_QUEUES.keys()) == []


def test_every_route_names_a_registered_task_and_a_known_queue(registered: set[str]) -> None:
    assert sorted(TASK_QUEUES.keys() - registered) == []
    assert set(TASK_QUEUES.values()) <= set(QUEUES)
    # Each queue carries something (an empty one is a worker group for nothing).
    assert set(TASK_QUEUES.values()) == set(QUEUES)


def test_the_router_sends_each_task_to_its_queue(registered: set[str]) -> None:
    router = celery_app.amqp.Router()
    for name in sorted(registered):
        route = router.route({}, name)
        assert route["queue"].name == TASK_QUEUES[name], name
        # Each queue has its own exchange and key: a message reaches that queue only.
        assert route["queue"].routing_key == TASK_QUEUES[name]


def test_an_unrouted_name_falls_to_default() -> None:
    assert celery_app.conf.task_default_queue == "default"
    assert celery_app.amqp.Router().route({}, "no.such_task")["queue"].name == "default"


def test_beat_schedules_only_routed_tasks() -> None:
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert sorted(scheduled - TASK_QUEUES.keys()) == []
    assert TASK_QUEUES["exams.auto_submit_expired"] == "exams"


def test_every_queue_is_consumed_by_exactly_one_worker_group_in_each_deployment() -> None:
    for deployment, groups in (
        ("docker-compose.yml", compose_worker_queues()),
        ("deploy/kubernetes", kubernetes_worker_queues()),
    ):
        consumed = [queue for queues in groups.values() for queue in queues]
        assert sorted(consumed) == sorted(QUEUES), deployment
        # auto-submit shares its workers with nothing
        exams_groups = [queues for queues in groups.values() if "exams" in queues]
        assert exams_groups == [("exams",)], deployment
