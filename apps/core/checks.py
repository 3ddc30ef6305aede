"""System checks of the platform: every port (:mod:`apps.core.ports`) has its one
implementation.

Registered from ``CoreConfig.ready``, so ``manage.py check``, ``runserver``, ``migrate`` and the
deploy check refuse to start with a port that no installed app provides (``core.E001``) or that
two provide (``core.E002``): either would otherwise surface only when a request reached the
port. ``tests/core/test_ports.py`` runs it under the test settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.checks import CheckMessage, Error, register

from apps.core.ports import Port, all_ports, describe

PORTS_TAG = "ports"


def port_errors(ports: Iterable[Port[Any]]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for port in ports:
        found = port.implementations
        if not found:
            errors.append(
                Error(
                    f"Port {port.name!r} has no implementation.",
                    hint="The app that implements it provides it in its AppConfig.ready(); "
                    "is that app installed?",
                    obj=port,
                    id="core.E001",
                )
            )
        elif len(found) > 1:
            errors.append(
                Error(
                    f"Port {port.name!r} has {len(found)} implementations: "
                    + ", ".join(describe(i) for i in found)
                    + ".",
                    hint="Exactly one app may provide a port.",
                    obj=port,
                    id="core.E002",
                )
            )
    return errors


@register(PORTS_TAG)
def check_ports(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return port_errors(all_ports())
