"""The handler registry: guard and action functions that definitions name.

Domain code declares its functions explicitly::

    registry = Registry()

    @registry.guard("water_function_zone_allows")
    def water_function_zone_allows(ctx: Context) -> bool: ...

    @registry.action("publish_decision")
    def publish_decision(ctx: Context) -> None: ...

Names are resolved when a definition is validated, never at the first fire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.errors import ConfigError

__all__ = ["Action", "Actor", "CaseOps", "Context", "Guard", "Registry"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a person or system behind a token, with its role and jurisdiction."""

    name: str
    role: str
    jurisdiction: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system", None)


class CaseOps(Protocol):
    """What a handler may do besides changing its own case, inside the same transaction."""

    def open_case(
        self, workflow: str, data: Mapping[str, Any], subject: str | None = None
    ) -> int: ...

    def open_case_if_absent(
        self, workflow: str, data: Mapping[str, Any], subject: str
    ) -> tuple[int, bool]: ...

    def get_subject(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def owner_of(self, kind: str, key: str) -> str | None:
        """The jurisdiction whose record ``key`` is (None: none, or of no jurisdiction)."""

    def list_subjects(self, kind: str, jurisdiction: str | None = None) -> list[dict[str, Any]]: ...

    def put_subject(
        self,
        kind: str,
        key: str,
        data: Mapping[str, Any],
        jurisdiction: str | None = None,
        *,
        by: Actor | None = None,
    ) -> None:
        """Write a subject; the change becomes a row of its history naming ``by`` (default:
        the acting actor)."""


@dataclass
class Context:
    """What a guard or action sees. Actions may change ``data``; the change is recorded."""

    case_id: int
    workflow: str
    trigger: str
    source: str
    dest: str | None
    data: dict[str, Any]
    payload: Mapping[str, Any]
    actor: Actor
    now: datetime
    subject: str | None
    ops: CaseOps
    reference: Mapping[str, Any] = field(default_factory=dict)


Guard = Callable[[Context], bool]
Action = Callable[[Context], None]


class Registry:
    def __init__(self) -> None:
        self.guards: dict[str, Guard] = {}
        self.actions: dict[str, Action] = {}

    def guard(self, name: str) -> Callable[[Guard], Guard]:
        def register(fn: Guard) -> Guard:
            if name in self.guards:
                raise _twice("guard", name, self.guards[name], fn)
            self.guards[name] = fn
            return fn

        return register

    @classmethod
    def merged(cls, *parts: Registry) -> Registry:
        """One registry from several (one per handler module); a name twice is an error."""
        out = cls()
        for part in parts:
            for name, guard in part.guards.items():
                out.guard(name)(guard)
            for name, action in part.actions.items():
                out.action(name)(action)
        return out

    def action(self, name: str) -> Callable[[Action], Action]:
        def register(fn: Action) -> Action:
            if name in self.actions:
                raise _twice("action", name, self.actions[name], fn)
            self.actions[name] = fn
            return fn

        return register


def _twice(
    kind: str, name: str, first: Callable[..., Any], second: Callable[..., Any]
) -> ConfigError:
    where = [f"{fn.__module__}.{fn.__qualname__}" for fn in (first, second)]
    return ConfigError(f"{kind} {name!r} is registered twice: by {where[0]} and {where[1]}")
