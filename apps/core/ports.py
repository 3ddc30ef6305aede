"""Ports: the one way a lower layer hands something to a higher one without importing it.

Imports only go down (the ``layers`` contract in pyproject.toml), yet a lower app sometimes
needs work done above it: practice and exams report answers to the learning record
(analytics), taxonomy shows progress the learning record keeps, the GDPR export of accounts
holds every app's rows. The lower app declares a :class:`Port` typed by what it needs (usually
a ``Protocol``) and calls ``port.get()``; the higher app ``provide``\\ s the implementation from
its ``AppConfig.ready()``::

    # apps/taxonomy/progress.py (lower)
    progress_provider: Port[ProgressProvider] = Port("taxonomy.progress_provider")

    # apps/analytics/apps.py (higher)
    progress_provider.provide(category_progress_for)

Where several higher apps each add one part, a :class:`PortFamily` holds one port per key (the
export's sections: ``personal_data_sections.provide("practice", personal_data)``).

Every port has exactly one implementation: the system check in :mod:`apps.core.checks` stops
start-up (``manage.py check``, ``runserver``, the test run) when one has none or several, so a
missing ``ready()`` registration is found before a request needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_registry: dict[str, Port[Any]] = {}


class PortNotProvided(RuntimeError):
    """A port was used without exactly one implementation (see the system check)."""


def describe(implementation: object) -> str:
    """``module.qualname`` of an implementation, for messages."""
    module = getattr(implementation, "__module__", None) or type(implementation).__module__
    name = getattr(implementation, "__qualname__", None) or type(implementation).__qualname__
    return f"{module}.{name}"


class Port(Generic[T]):
    """A slot declared by a lower app, filled by exactly one higher app."""

    def __init__(self, name: str, *, description: str = "") -> None:
        if name in _registry:
            raise ValueError(f"A port named {name!r} is already declared.")
        self.name = name
        self.description = description
        self._implementations: list[T] = []
        _registry[name] = self

    def __repr__(self) -> str:
        return f"<Port {self.name}: {len(self._implementations)} implementation(s)>"

    def provide(self, implementation: T) -> None:
        """Registers the implementation. The same object again changes nothing (``ready()`` may
        run more than once); a different one is kept beside it, for the check to report."""
        if not any(existing is implementation for existing in self._implementations):
            self._implementations.append(implementation)

    @property
    def implementations(self) -> tuple[T, ...]:
        return tuple(self._implementations)

    def get(self) -> T:
        """The implementation; raises :class:`PortNotProvided` unless there is exactly one."""
        if len(self._implementations) != 1:
            found = ", ".join(describe(i) for i in self._implementations) or "none"
            raise PortNotProvided(
                f"Port {self.name!r} needs exactly one implementation; found: {found}."
            )
        return self._implementations[0]

    @contextmanager
    def override(self, implementation: T) -> Iterator[T]:
        """Tests: ``implementation`` is the only one inside the block, then the previous ones
        are back."""
        saved = self._implementations
        self._implementations = [implementation]
        try:
            yield implementation
        finally:
            self._implementations = saved


class PortFamily(Generic[T]):
    """Ports of one kind keyed by name, for a lower app that runs every part higher apps add
    (e.g. one GDPR export section per app). Each key is a :class:`Port` named
    ``<family>[<key>]`` with, like any port, exactly one implementation."""

    def __init__(
        self, name: str, *, description: str = "", reserved: frozenset[str] = frozenset()
    ) -> None:
        self.name = name
        self.description = description
        self.reserved = reserved
        self._members: dict[str, Port[T]] = {}

    def provide(self, key: str, implementation: T) -> None:
        """Adds ``implementation`` under ``key``; a reserved or empty key is refused."""
        if not key or key in self.reserved:
            raise ValueError(f"{key!r} cannot be used as a key of {self.name!r}.")
        port = self._members.get(key)
        if port is None:
            port = self._members[key] = Port(f"{self.name}[{key}]", description=self.description)
        port.provide(implementation)

    def keys(self) -> list[str]:
        """The keys, in the order they were first provided."""
        return list(self._members)

    def items(self) -> list[tuple[str, T]]:
        """``(key, implementation)`` for every key, in the order they were first provided."""
        return [(key, port.get()) for key, port in self._members.items()]

    @contextmanager
    def override(self, key: str, implementation: T) -> Iterator[T]:
        """Tests: ``key`` has ``implementation`` inside the block (added for the block if it
        was not there)."""
        if key not in self._members:
            self.provide(key, implementation)
            try:
                yield implementation
            finally:
                del self._members[key]
                del _registry[f"{self.name}[{key}]"]
            return
        with self._members[key].override(implementation):
            yield implementation


def all_ports() -> list[Port[Any]]:
    """Every declared port (family members included), in declaration order."""
    return list(_registry.values())
