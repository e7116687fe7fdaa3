"""YAML text → checked, frozen ``Definition``, or every problem found.

Structure is checked against the JSON Schema shipped in ``schema/workflow.schema.json``
(``checks_shape``: every error in words, and the well-formed rest is checked further); then
semantics: undefined states, unknown roles, unresolved handler names, transitions that can never
be taken (``checks_routing``), the graph (``checks_graph``), timers and deadlines that cannot fire
(``checks_timing``), the embedded schemas (``schema_rules``, ``checks_keywords``,
``checks_satisfiable``) and what they say about the data (``checks_data``, ``access_checks``).
A file with any problem never produces a ``Definition``. The list of checks, with a message
each, is in docs/definition-language.md ("What validate checks").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.access_checks import access_problems
from engine.definition.checks_attachments import attachment_problems
from engine.definition.checks_data import data_problems
from engine.definition.checks_graph import ending_problems, graph_problems
from engine.definition.checks_keywords import keyword_problems
from engine.definition.checks_routing import unreachable_transitions
from engine.definition.checks_satisfiable import unsatisfiable_problems
from engine.definition.checks_shape import shape
from engine.definition.checks_timing import timing_problems
from engine.definition.fields import confidential_fields, read_only_fields, readers_of
from engine.definition.loader import Document, Path, load_yaml
from engine.definition.model import (
    ADMIN,
    SYSTEM,
    AtSpec,
    DeadlineSpec,
    Definition,
    Duration,
    StateSpec,
    TimerSpec,
    TransitionSpec,
)
from engine.definition.schema_rules import date_problems, schema_problems, valid_schema
from engine.definition.sign_off import sign_off_problems
from engine.errors import DefinitionError, Problem
from engine.handlers import Registry

__all__ = ["parse_definition", "check_definition"]

# Names `transitions` puts on a model, which a trigger must not shadow.
_RESERVED_TRIGGERS = {"state", "trigger", "machine"}
_RESERVED_PREFIXES = ("is_", "may_", "to_")
# The rules that came after versions were published: not applied to a stored version. The
# first read any schema; the others judge what valid embedded schemas mean.
_LATER_RULES = (date_problems, keyword_problems, attachment_problems)
_LATER_MEANING_RULES = (data_problems, unsatisfiable_problems, timing_problems)


def check_definition(
    text: str, source: str, registry: Registry, stored: bool = False
) -> tuple[Definition | None, list[Problem]]:
    """Parse and check one definition; a ``Definition`` only when there is no problem.

    ``stored``: the text of a version published before, compiled again for its running cases.
    The rules that came later (``_LATER_RULES``, ``_LATER_MEANING_RULES``, ``ending_problems``)
    are not applied to it (a version that would break them keeps working as it did); every
    other rule is."""
    doc, problems = load_yaml(text, source)
    if problems:
        return None, problems
    if not isinstance(doc.value, dict):
        return None, [doc.problem((), "a definition must be a mapping")]
    found = shape(doc)  # every shape error, and the well-formed rest to check further
    problems = list(found.problems)
    if found.value is not None:
        problems.extend(_Semantics(doc, found.value, registry).run())
        sound = _sound_schemas(found.value)
        if found.complete:
            problems.extend(graph_problems(doc, found.value))
            if not stored:
                problems.extend(ending_problems(doc, sound))
        if not stored:
            for rules in _LATER_RULES:
                problems.extend(rules(doc, found.value))
            for rules in _LATER_MEANING_RULES:
                problems.extend(rules(doc, sound))
    problems.sort(key=lambda p: (p.line, p.column))
    if problems:
        return None, problems
    return _build(doc.value, text), []


def _sound_schemas(v: dict[str, Any]) -> dict[str, Any]:
    """``v`` without the embedded schemas that are not valid JSON Schema (``schema_problems``
    names them): the checks of what a schema means judge only schemas that mean something."""
    out = dict(v)
    if "data_schema" in out and not valid_schema(out["data_schema"]):
        del out["data_schema"]
    out["transitions"] = [
        {k: x for k, x in t.items() if k not in ("when", "payload_schema") or valid_schema(x)}
        for t in v["transitions"]
    ]
    return out


def parse_definition(
    text: str, source: str, registry: Registry, stored: bool = False
) -> Definition:
    definition, problems = check_definition(text, source, registry, stored)
    if definition is None:
        raise DefinitionError(problems)
    return definition


def _as_tuple(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _sources(raw: Mapping[str, Any], states: Mapping[str, Any]) -> tuple[str, ...]:
    if raw["source"] == "*":
        return tuple(name for name, s in states.items() if not s.get("final", False))
    return _as_tuple(raw["source"])


def _at(raw: Any) -> AtSpec | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        return AtSpec(data_field=raw["data"])
    return AtSpec(value=str(raw))


def _duration(raw: str | None) -> Duration | None:
    return Duration.parse(raw) if raw is not None else None


def _build(v: dict[str, Any], text: str) -> Definition:
    states = {
        name: StateSpec(
            name=name,
            title=s["title"],
            final=s.get("final", False),
            on_enter=tuple(s.get("on_enter", ())),
            on_exit=tuple(s.get("on_exit", ())),
            description=s.get("description", ""),
        )
        for name, s in v["states"].items()
    }
    transitions = tuple(
        TransitionSpec(
            index=i,
            trigger=t["trigger"],
            sources=_sources(t, v["states"]),
            dest=None if t.get("internal", False) else t["dest"],
            roles=tuple(t.get("roles", ())),
            title=t.get("title", ""),
            payload_schema=t.get("payload_schema"),
            when=t.get("when"),
            guards=_as_tuple(t.get("guard")),
            merge_payload=t.get("merge_payload", False),
            actions=tuple(t.get("actions", ())),
        )
        for i, t in enumerate(v["transitions"])
    )
    timers = {
        state: tuple(
            TimerSpec(
                name=t.get("name", f"{state}_{i}_{t['fires']}"),
                state=state,
                fires=t["fires"],
                after=_duration(t.get("after")),
                at=_at(t.get("at")),
                every=_duration(t.get("every")),
                payload=t.get("payload", {}),
                catch_up=t.get("catch_up", "fire"),
            )
            for i, t in enumerate(items)
        )
        for state, items in v.get("timers", {}).items()
    }
    deadlines = tuple(
        DeadlineSpec(
            name=name,
            starts_in=_as_tuple(d["starts_in"]),
            runs_until=_as_tuple(d["runs_until"]),
            pauses_in=_as_tuple(d.get("pauses_in")),
            fires=d["fires"],
            after=_duration(d.get("after")),
            at=_at(d.get("at")),
            payload=d.get("payload", {}),
            catch_up=d.get("catch_up", "fire"),
        )
        for name, d in v.get("deadlines", {}).items()
    )
    return Definition(
        name=v["name"],
        title=v["title"],
        description=v.get("description", ""),
        subject=v.get("subject"),
        one_open_case_per_subject=v.get("one_open_case_per_subject", False),
        jurisdiction_field=v.get("jurisdiction_field", "jurisdiction"),
        roles=tuple(v["roles"]),
        data_schema=v.get("data_schema"),
        readers=readers_of(v.get("access")),
        party_fields=tuple((v.get("access") or {}).get("parties", ())),
        confidential=confidential_fields(v.get("data_schema")),
        read_only=read_only_fields(v.get("data_schema")),
        initial=v["initial"],
        states=states,
        transitions=transitions,
        timers=timers,
        deadlines=deadlines,
        source_text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


class _Semantics:
    """The checks a JSON Schema cannot express. Each method yields problems."""

    def __init__(self, doc: Document, v: dict[str, Any], registry: Registry) -> None:
        self.doc = doc
        self.v = v
        self.registry = registry
        self.states: dict[str, Any] = self.v["states"]
        self.roles = set(self.v["roles"]) | {ADMIN, SYSTEM}

    def run(self) -> list[Problem]:
        problems: list[Problem] = []
        for check in (
            self._initial,
            self._states,
            self._transitions,
            self._timers,
            self._deadlines,
        ):
            problems.extend(check())
        problems.extend(schema_problems(self.doc, self.v))
        problems.extend(access_problems(self.doc, self.v))
        problems.extend(sign_off_problems(self.doc, self.v))
        return problems

    def _p(self, path: Path, message: str, at_key: bool = False) -> Problem:
        return self.doc.problem(path, message, at_key)

    def _state_ref(self, path: Path, name: str, what: str) -> Iterator[Problem]:
        if name not in self.states:
            yield self._p(path, f"{what} {name!r} is not a state of this workflow")

    def _state_refs(
        self, path: Path, value: str | list[str] | None, what: str
    ) -> Iterator[Problem]:
        if isinstance(value, list):
            for i, name in enumerate(value):
                yield from self._state_ref((*path, i), name, what)
        elif value is not None:
            yield from self._state_ref(path, value, what)

    def _initial(self) -> Iterator[Problem]:
        yield from self._state_ref(("initial",), self.v["initial"], "initial state")

    def _states(self) -> Iterator[Problem]:
        for name, state in self.states.items():
            for hook in ("on_enter", "on_exit"):
                for i, action in enumerate(state.get(hook, [])):
                    if action not in self.registry.actions:
                        yield self._p(
                            ("states", name, hook, i), f"action {action!r} is not in handlers/"
                        )

    def _transitions(self) -> Iterator[Problem]:
        for i, t in enumerate(self.v["transitions"]):
            at: Path = ("transitions", i)
            yield from self._transition_shape(at, t)
            yield from self._transition_refs(at, t)
        yield from unreachable_transitions(self.doc, self.v["transitions"], self.states)

    def _transition_refs(self, at: Path, t: dict[str, Any]) -> Iterator[Problem]:
        if t["source"] != "*":
            yield from self._state_refs((*at, "source"), t["source"], "source")
        for j, role in enumerate(t.get("roles", [])):
            if role not in self.roles:
                yield self._p((*at, "roles", j), f"role {role!r} is not declared in roles")
        for j, guard in enumerate(_as_tuple(t.get("guard"))):
            if guard not in self.registry.guards:
                path = (*at, "guard", j) if isinstance(t["guard"], list) else (*at, "guard")
                yield self._p(path, f"guard {guard!r} is not in handlers/")
        for j, action in enumerate(t.get("actions", [])):
            if action not in self.registry.actions:
                yield self._p((*at, "actions", j), f"action {action!r} is not in handlers/")

    def _transition_shape(self, at: Path, t: dict[str, Any]) -> Iterator[Problem]:
        trigger = t["trigger"]
        if trigger in _RESERVED_TRIGGERS or trigger.startswith(_RESERVED_PREFIXES):
            yield self._p((*at, "trigger"), f"trigger name {trigger!r} is reserved")
        internal = t.get("internal", False)
        if internal and "dest" in t:
            yield self._p((*at, "dest"), "an internal transition has no dest")
        elif not internal and "dest" not in t:
            yield self._p(at, "a transition needs a dest (or internal: true)")
        elif "dest" in t:
            yield from self._state_ref((*at, "dest"), t["dest"], "dest")
        if t.get("merge_payload") and internal and "payload_schema" not in t:
            yield self._p((*at, "merge_payload"), "merge_payload needs a payload_schema")

    def _fireable(self, trigger: str, state: str) -> bool:
        return any(
            t["trigger"] == trigger and state in _sources(t, self.states)
            for t in self.v["transitions"]
        )

    def _timers(self) -> Iterator[Problem]:
        for state, items in self.v.get("timers", {}).items():
            if state not in self.states:
                yield self._p(("timers", state), f"timer state {state!r} is not a state", True)
            for i, timer in enumerate(items):
                at: Path = ("timers", state, i)
                kinds = [k for k in ("after", "at", "every") if k in timer]
                if len(kinds) != 1:
                    yield self._p(at, "a timer needs exactly one of after, at, every")
                if state in self.states and not self._fireable(timer["fires"], state):
                    yield self._p(
                        (*at, "fires"),
                        f"timer fires {timer['fires']!r}, which no transition allows "
                        f"from state {state!r}",
                    )

    def _deadlines(self) -> Iterator[Problem]:
        for name, d in self.v.get("deadlines", {}).items():
            at: Path = ("deadlines", name)
            for key in ("starts_in", "runs_until", "pauses_in"):
                yield from self._state_refs((*at, key), d.get(key), key)
            if ("after" in d) == ("at" in d):
                yield self._p(at, "a deadline needs exactly one of after, at")
            if not any(t["trigger"] == d["fires"] for t in self.v["transitions"]):
                yield self._p((*at, "fires"), f"deadline fires {d['fires']!r}: no such trigger")
