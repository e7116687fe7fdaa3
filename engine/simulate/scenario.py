"""A scenario file: safe YAML (``engine.definition.loader``, so every node has its line and
column), checked against ``scenario.schema.json`` (every error reported, not the first) and
against itself (actors named by ``as`` exist, moments are real dates), then held as a
``Scenario`` whose steps remember where they are in the text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from engine.definition.loader import Document, Path, load_yaml
from engine.errors import Problem
from engine.handlers import Actor
from engine.simulate.errors import ScenarioInvalid

__all__ = ["ACTIONS", "OFFICE_HOURS", "Scenario", "Step", "parse_moment", "parse_scenario"]

ACTIONS = ("create", "fire", "advance", "until", "expect")
OFFICE_HOURS = time(9, 0)  # a bare start date is 09:00 local time that day
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("engine.simulate").joinpath("scenario.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


@dataclass(frozen=True)
class Step:
    """One step: ``kind`` is its action (``create`` ... ``expect``), ``spec`` its mapping,
    ``path`` where it sits in the document (``("steps", 3)``)."""

    kind: str
    spec: dict[str, Any]
    path: Path
    number: int  # 1-based, as people count


@dataclass(frozen=True)
class Scenario:
    source: str
    doc: Document
    start: datetime
    actors: dict[str, Actor]
    subjects: list[dict[str, Any]]
    workflows: list[str] | None  # None: every definition of the folder
    steps: list[Step]
    title: str = ""

    def where(self, path: Path, at_key: bool = False) -> str:
        """``file:line:col`` of the node at ``path``."""
        line, column = self.doc.mark(path, at_key)
        return f"{self.source}:{line}:{column}"

    def problem(self, path: Path, message: str) -> Problem:
        return self.doc.problem(path, message)


def parse_moment(text: str, zone: ZoneInfo, *, bare_date: str = "end") -> datetime:
    """``YYYY-MM-DD`` or an ISO datetime (local in ``zone`` if it has no offset), in UTC.
    A bare date is the end of that local day (``bare_date="end"``, as deadlines count) or
    09:00 that day (``"office"``, for a start)."""
    if _DATE.match(text):
        day = date.fromisoformat(text)
        if bare_date == "office":
            return datetime.combine(day, OFFICE_HOURS, zone).astimezone(UTC)
        return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _schema_problems(doc: Document, error: ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "anyOf" and len(path) == 2 and path[0] == "steps":
        keys = ", ".join(ACTIONS)
        return [doc.problem(path, f"a step needs one of {keys}")]
    deepest = best_match(error.context) if error.context else error
    path = tuple(deepest.absolute_path)
    if deepest.validator == "additionalProperties" and isinstance(deepest.instance, dict):
        known = set(deepest.schema.get("properties", {}))
        return [
            doc.problem((*path, key), f"unknown key {key!r}", at_key=True)
            for key in deepest.instance
            if key not in known
        ]
    if deepest.validator in ("minProperties", "minItems"):
        return [doc.problem(path, "must not be empty")]
    if deepest.validator == "pattern" and path and path[-1] == "advance":
        return [doc.problem(path, f"{deepest.instance!r} is not like '5 working days'")]
    if deepest.validator == "pattern":
        return [doc.problem(path, f"{deepest.instance!r} is not a date or ISO datetime")]
    return [doc.problem(path, deepest.message)]


class _Checker:
    """What the schema cannot say: names refer to actors, moments are real ones."""

    def __init__(self, doc: Document, zone: ZoneInfo) -> None:
        self.doc = doc
        self.zone = zone
        self.problems: list[Problem] = []

    def moment(self, path: Path, text: str, bare_date: str = "end") -> datetime:
        try:
            return parse_moment(text, self.zone, bare_date=bare_date)
        except ValueError:
            self.problems.append(self.doc.problem(path, f"{text!r} is not a real date or time"))
            return datetime(1970, 1, 1, tzinfo=UTC)

    def actors(self, listing: list[dict[str, Any]]) -> dict[str, Actor]:
        out: dict[str, Actor] = {}
        for i, item in enumerate(listing):
            name = item["name"]
            if name in out:
                self.problems.append(self.doc.problem(("actors", i, "name"), f"{name!r} twice"))
            out[name] = Actor(name, item["role"], item.get("jurisdiction"))
        return out

    def step(self, i: int, raw: dict[str, Any], actors: dict[str, Actor]) -> Step:
        kind = next(k for k in ACTIONS if k in raw)
        path: Path = ("steps", i)
        spec = raw[kind] if kind == "expect" else raw
        if "as" in spec and spec["as"] not in actors:
            where = (*path, "expect", "as") if kind == "expect" else (*path, "as")
            known = ", ".join(actors)
            self.problems.append(
                self.doc.problem(where, f"no actor {spec['as']!r} in actors ({known})")
            )
        if kind == "until":
            self.moment((*path, "until"), raw["until"])
        if kind == "expect":
            for j, timer in enumerate(spec.get("timers", [])):
                if "due" in timer:
                    self.moment((*path, "expect", "timers", j, "due"), timer["due"])
            if "available" in spec and "as" not in spec:
                self.problems.append(
                    self.doc.problem((*path, "expect", "available"), "available needs as: ACTOR")
                )
        return Step(kind, raw, path, i + 1)


def parse_scenario(text: str, source: str, zone: ZoneInfo) -> Scenario:
    """The scenario in ``text``, or ``ScenarioInvalid`` with every problem found."""
    doc, problems = load_yaml(text, source)
    if problems:
        raise ScenarioInvalid(problems)
    if not isinstance(doc.value, dict):
        raise ScenarioInvalid([doc.problem((), "a scenario must be a mapping")])
    for error in _validator().iter_errors(doc.value):
        problems.extend(_schema_problems(doc, error))
    if problems:
        raise ScenarioInvalid(sorted(set(problems), key=lambda p: (p.line, p.column)))
    value: dict[str, Any] = doc.value
    check = _Checker(doc, zone)
    start = check.moment(("start",), value["start"], bare_date="office")
    actors = check.actors(value["actors"])
    steps = [check.step(i, raw, actors) for i, raw in enumerate(value["steps"])]
    for i, subject in enumerate(value.get("subjects", [])):
        if not isinstance(subject["data"], dict):  # pragma: no cover - the schema says object
            check.problems.append(doc.problem(("subjects", i, "data"), "must be a mapping"))
    if check.problems:
        raise ScenarioInvalid(sorted(check.problems, key=lambda p: (p.line, p.column)))
    return Scenario(
        source=source,
        doc=doc,
        start=start,
        actors=actors,
        subjects=list(value.get("subjects", [])),
        workflows=value.get("workflows"),
        steps=steps,
        title=value.get("title", ""),
    )
