"""Ports (apps/core/ports.py) and the system check that each has its one implementation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import run_checks

from apps.core import ports
from apps.core.checks import PORTS_TAG, port_errors
from apps.core.ports import Port, PortFamily, PortNotProvided


@pytest.fixture
def declared() -> Iterator[list[str]]:
    """Names of ports a test declares; they leave the registry afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        ports._registry.pop(name, None)


def make_port(declared: list[str], name: str) -> Port[Any]:
    declared.append(name)
    return Port(name)


def first() -> None: ...


def second() -> None: ...


def test_every_port_of_the_installed_apps_has_its_one_implementation() -> None:
    assert run_checks(tags=[PORTS_TAG]) == []
    names = {port.name for port in ports.all_ports()}
    assert {"questions.answer_recorder", "taxonomy.progress_provider"} <= names
    assert {f"accounts.personal_data[{app}]" for app in ("practice", "exams")} <= names


def test_a_port_without_implementation_fails_the_check(declared: list[str]) -> None:
    port = make_port(declared, "tests.none")
    errors = run_checks(tags=[PORTS_TAG])
    assert [(e.id, e.obj) for e in errors] == [("core.E001", port)]
    with pytest.raises(PortNotProvided, match="found: none"):
        port.get()


def test_two_implementations_fail_the_check(declared: list[str]) -> None:
    port = make_port(declared, "tests.two")
    port.provide(first)
    port.provide(second)
    (error,) = port_errors([port])
    assert error.id == "core.E002"
    assert "tests.core.test_ports.first" in error.msg
    assert "tests.core.test_ports.second" in error.msg
    with pytest.raises(PortNotProvided):
        port.get()


def test_providing_the_same_implementation_again_changes_nothing(declared: list[str]) -> None:
    port = make_port(declared, "tests.again")
    port.provide(first)
    port.provide(first)  # ready() run twice
    assert port_errors([port]) == []
    assert port.get() is first


def test_override_replaces_for_the_block_only(declared: list[str]) -> None:
    port = make_port(declared, "tests.override")
    port.provide(first)
    with port.override(second):
        assert port.get() is second
    assert port.get() is first


def test_a_name_is_declared_once(declared: list[str]) -> None:
    make_port(declared, "tests.once")
    with pytest.raises(ValueError):
        Port("tests.once")


def test_a_family_has_one_port_per_key(declared: list[str]) -> None:
    family: PortFamily[Any] = PortFamily("tests.family", reserved=frozenset({"format"}))
    declared += ["tests.family[a]", "tests.family[b]"]
    family.provide("a", first)
    family.provide("b", second)
    assert family.items() == [("a", first), ("b", second)]
    family.provide("a", second)  # a second app taking the same key
    errors = port_errors(ports.all_ports())
    assert [(e.id, e.obj.name) for e in errors] == [("core.E002", "tests.family[a]")]
    with pytest.raises(ValueError):
        family.provide("format", first)
