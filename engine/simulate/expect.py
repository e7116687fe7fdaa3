"""``expect`` blocks: compare what the engine says about a case with what the scenario wrote.

Every mismatch is a ``Failure`` naming the scenario's ``file:line:col`` of the expectation that
did not hold, what was expected and what was found."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from engine.definition.loader import Path
from engine.errors import QingliuError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.simulate.scenario import Scenario, parse_moment
from engine.simulate.trace import local
from engine.views import CaseView

__all__ = ["ABSENT", "Failure", "check_expect", "resolve_path"]

ABSENT = "(absent)"
_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Failure:
    where: str  # file:line:col
    line: int
    column: int
    json_path: str  # of the expectation in the scenario
    message: str
    expected: Any = None
    found: Any = None

    def __str__(self) -> str:
        if self.expected is None and self.found is None:
            return f"{self.where}: {self.message}"
        return (
            f"{self.where}: {self.message}: expected {_shown(self.expected)}, "
            f"found {_shown(self.found)}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "line": self.line,
            "column": self.column,
            "path": self.json_path,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
        }


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def failure(
    scenario: Scenario, path: Path, message: str, expected: Any = None, found: Any = None
) -> Failure:
    p = scenario.problem(path, message)
    where = f"{scenario.source}:{p.line}:{p.column}"
    return Failure(where, p.line, p.column, p.json_path, message, expected, found)


def resolve_path(data: Any, json_path: str) -> Any:
    """The value at ``$.a.b[0]`` in ``data``, or ``ABSENT``."""
    value = data
    for name, index in _PART.findall(json_path[1:]):
        if name:
            if not isinstance(value, Mapping) or name not in value:
                return ABSENT
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return ABSENT
            value = value[int(index)]
    return value


def _subset(expected: Any, found: Any, path: tuple[str, ...]) -> Iterator[tuple[Path, Any, Any]]:
    """Where ``found`` differs from ``expected``: mappings are matched key by key (keys not
    written are not compared), anything else must be equal."""
    if isinstance(expected, Mapping) and isinstance(found, Mapping):
        for key, value in expected.items():
            if key not in found:
                yield (*path, key), value, ABSENT
            else:
                yield from _subset(value, found[key], (*path, key))
    elif expected != found or isinstance(expected, bool) != isinstance(found, bool):
        yield path, expected, found


class _Check:
    def __init__(
        self, engine: Engine, scenario: Scenario, base: Path, view: CaseView, zone: ZoneInfo
    ) -> None:
        self.engine = engine
        self.scenario = scenario
        self.base = base
        self.view = view
        self.zone = zone
        self.failures: list[Failure] = []

    def fail(self, key: Path, message: str, expected: Any = None, found: Any = None) -> None:
        self.failures.append(failure(self.scenario, (*self.base, *key), message, expected, found))

    def state(self, expected: str) -> None:
        if self.view.state != expected:
            found = f"{self.view.state} ({self.view.state_title})"
            self.fail(("state",), f"case #{self.view.id} state", expected, found)

    def is_open(self, expected: bool) -> None:
        if self.view.case.is_open != expected:
            self.fail(("open",), f"case #{self.view.id} open", expected, self.view.case.is_open)

    def data(self, expected: Mapping[str, Any]) -> None:
        for path, want, found in _subset(expected, self.view.data, ()):
            shown = "$" + "".join(f".{p}" for p in path)
            self.fail(("data", *path), f"case #{self.view.id} data {shown}", want, found)

    def paths(self, expected: Mapping[str, Any]) -> None:
        for json_path, want in expected.items():
            found = resolve_path(self.view.data, json_path)
            if found != want or isinstance(found, bool) != isinstance(want, bool):
                self.fail(
                    ("paths", json_path), f"case #{self.view.id} data {json_path}", want, found
                )

    def absent(self, names: list[str]) -> None:
        for i, name in enumerate(names):
            json_path = name if name.startswith("$") else f"$.{name}"
            found = resolve_path(self.view.data, json_path)
            if found is not ABSENT:
                self.fail(("absent", i), f"case #{self.view.id} data {json_path}", ABSENT, found)

    def timers(self, expected: list[Mapping[str, Any]]) -> None:
        live = {t.name: t for t in self.view.timers}
        names = [t["name"] for t in expected]
        if sorted(names) != sorted(live):
            self.fail(("timers",), f"case #{self.view.id} pending timers", names, sorted(live))
        for i, want in enumerate(expected):
            t = live.get(want["name"])
            if t is None:
                continue
            if "trigger" in want and t.trigger != want["trigger"]:
                self.fail(
                    ("timers", i, "trigger"), f"timer {t.name} trigger", want["trigger"], t.trigger
                )
            if "status" in want and t.status != want["status"]:
                self.fail(
                    ("timers", i, "status"), f"timer {t.name} status", want["status"], t.status
                )
            if "due" in want and parse_moment(want["due"], self.zone) != t.due_at:
                due = parse_moment(want["due"], self.zone)
                self.fail(
                    ("timers", i, "due"),
                    f"timer {t.name} due (local time)",
                    local(due, self.zone),
                    local(t.due_at, self.zone),
                )

    def history(self, expected: list[str]) -> None:
        found = [e.trigger for e in self.engine.history(self.view.id) if e.kind == "transition"]
        if found != expected:
            self.fail(("history",), f"case #{self.view.id} triggers in order", expected, found)

    def available(self, expected: list[str], actor: Actor) -> None:
        try:
            found = self.engine.available_triggers(self.view.id, actor)
        except QingliuError as exc:
            self.fail(("available",), f"{actor.name} cannot read case #{self.view.id}: {exc}")
            return
        if sorted(found) != sorted(expected):
            what = f"triggers available to {actor.name} on case #{self.view.id}"
            self.fail(("available",), what, sorted(expected), sorted(found))


def _cases(
    engine: Engine, scenario: Scenario, base: Path, expected: Mapping[str, int]
) -> list[Failure]:
    out = []
    for workflow, count in expected.items():
        found = len(engine.list_cases(None, workflow=workflow, limit=100_000))
        if found != count:
            what = f"number of {workflow} cases"
            out.append(failure(scenario, (*base, "cases", workflow), what, count, found))
    return out


def check_expect(
    engine: Engine,
    scenario: Scenario,
    base: Path,
    spec: Mapping[str, Any],
    view: CaseView | None,
    zone: ZoneInfo,
) -> list[Failure]:
    """Every mismatch between ``spec`` (an ``expect`` block at ``base``) and the case
    (``view`` None: the block is only about ``cases``)."""
    found = _cases(engine, scenario, base, spec.get("cases", {}))
    if view is None:
        return found
    check = _Check(engine, scenario, base, view, zone)
    if "state" in spec:
        check.state(spec["state"])
    if "open" in spec:
        check.is_open(spec["open"])
    if "data" in spec:
        check.data(spec["data"])
    if "paths" in spec:
        check.paths(spec["paths"])
    if "absent" in spec:
        check.absent(spec["absent"])
    if "timers" in spec:
        check.timers(spec["timers"])
    if "history" in spec:
        check.history(spec["history"])
    if "available" in spec:
        check.available(spec["available"], scenario.actors[spec["as"]])
    return found + check.failures
