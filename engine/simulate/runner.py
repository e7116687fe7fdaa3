"""Run a scenario against a definition in a throw-away database with a virtual clock.

The sandbox is a new SQLite file in a temporary folder (keys beside it), with the installation's
handlers, working-day calendar, jurisdictions and reference data; it is deleted when the run
ends. The configured database is never opened. Cases are created and fired through the engine
facade, as the CLI and the API do; timers fire through the real sweep (``clockwork``)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.blobs.stand_in import stand_in
from engine.catalog import definition_files
from engine.clock import FakeClock
from engine.errors import DefinitionError, QingliuError
from engine.handlers import Actor, Registry
from engine.keys import KeyRing
from engine.runtime import Engine
from engine.scope import Scope
from engine.simulate.clockwork import advance_target, drive
from engine.simulate.expect import Failure, check_expect, failure
from engine.simulate.scenario import Scenario, Step, parse_moment
from engine.simulate.trace import Entry, Recorder, local
from engine.store import migrate
from engine.store.repository import Store
from engine.time.calendar import WorkingCalendar

__all__ = ["Draft", "Result", "Sandbox", "run_scenario", "sandbox"]

ADMIN = Actor("simulator", "admin")


@dataclass(frozen=True)
class Draft:
    """A definition to test that is not published: its text and where it came from."""

    text: str
    source: str


@dataclass(frozen=True)
class Sandbox:
    """What a throw-away engine is made of: the installation's handlers and rules."""

    registry: Registry
    calendar: WorkingCalendar
    scope: Scope
    reference: Mapping[str, Any]

    @classmethod
    def like(cls, engine: Engine) -> Sandbox:
        return cls(engine.catalog.registry, engine.planner.calendar, engine.scope, engine.reference)


@contextmanager
def sandbox(parts: Sandbox, clock: FakeClock) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="qingliu-simulate-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'simulate.db'}")
        try:
            migrate.check(store, create=True)
            yield Engine(
                store,
                parts.registry,
                clock=clock,
                calendar=parts.calendar,
                scope=parts.scope,
                reference=parts.reference,
                keys=KeyRing(Path(folder) / "keys"),
            )
        finally:
            store.dispose()


@dataclass
class Result:
    scenario: str
    workflow: str
    passed: bool = True
    trace: list[Entry] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    steps_run: int = 0
    steps: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    headers: dict[int, str] = field(default_factory=dict)  # step number -> what it does
    notes: dict[int, list[str]] = field(default_factory=dict)  # step number -> outcomes

    def to_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "workflow": self.workflow,
            "passed": self.passed,
            "steps": self.steps,
            "steps_run": self.steps_run,
            "definitions": self.versions,
            "trace": [e.to_json(zone) for e in self.trace],
            "failures": [f.to_json() for f in self.failures],
        }


class _Run:
    def __init__(self, engine: Engine, clock: FakeClock, scenario: Scenario, workflow: str) -> None:
        self.engine = engine
        self.clock = clock
        self.scenario = scenario
        self.workflow = workflow
        self.zone = engine.planner.calendar.tz
        self.recorder = Recorder(engine)
        self.cases: dict[str, int] = {}
        self.current: int | None = None
        self.result = Result(scenario.source, workflow, steps=len(scenario.steps))
        self.step_number = 0

    def fail(
        self, path: tuple[Any, ...], message: str, expected: Any = None, found: Any = None
    ) -> None:
        self.result.failures.append(failure(self.scenario, path, message, expected, found))

    def note(self, text: str) -> None:
        self.result.notes.setdefault(self.step_number, []).append(text)

    def collect(self) -> None:
        self.result.trace.extend(self.recorder.collect(self.step_number))

    # -- steps ----------------------------------------------------------------------------------

    def run(self) -> Result:
        steps = self.scenario.steps if self.seed() else []
        self.collect()
        for step in steps:
            self.step_number = step.number
            line = self.scenario.doc.mark(step.path)[0]
            self.result.headers[step.number] = (
                f"step {step.number} (line {line}): {describe(step, self.workflow)}"
            )
            go_on = getattr(self, "_" + step.kind)(step)
            self.collect()
            self.result.steps_run = step.number
            if not go_on:
                self.note(f"stopped here: the steps after {step.number} were not run")
                break
        self.result.passed = not self.result.failures
        return self.result

    def seed(self) -> bool:
        """Write the subjects; one the engine refuses (an unknown jurisdiction, a key too
        long) is a failure at its place in the scenario, and nothing runs."""
        for i, s in enumerate(self.scenario.subjects):
            where = s.get("jurisdiction")
            if where is not None and not self.engine.scope.knows(where):
                known = "config/reference/jurisdictions.yaml"
                self.fail(
                    ("subjects", i, "jurisdiction"), f"unknown jurisdiction ({known})", None, where
                )
                return False
            try:
                with self.engine.transaction(ADMIN) as (_tx, ops):
                    ops.put_subject(s["kind"], s["key"], s["data"], s.get("jurisdiction"))
            except QingliuError as exc:
                self.fail(("subjects", i), f"subject {s['key']!r} refused: {exc}")
                return False
        return True

    def _refusal(self, step: Step, exc: QingliuError | None, what: str) -> bool:
        """Compare the outcome of a create or fire with its ``expect_refused``."""
        wanted = step.spec.get("expect_refused")
        path = (*step.path, "expect_refused")
        if exc is None:
            if wanted is not None:
                self.fail(path, f"{what} was not refused", wanted, "accepted")
            return True
        names = {c.__name__ for c in type(exc).__mro__} | {exc.kind}
        if wanted is None:
            self.fail((*step.path, step.kind), f"{what} was refused: {exc}")
            return False  # the steps after it assume it went through
        if wanted not in names:
            self.fail(path, f"{what} refused otherwise", wanted, f"{exc.kind}: {exc}")
        else:
            self.note(f"refused as expected: {exc}")
        return True

    def _create(self, step: Step) -> bool:
        spec = step.spec
        workflow = spec["create"] or self.workflow
        actor = self.scenario.actors[spec["as"]]
        what = f"create {workflow} as {actor.name}"
        try:
            data = self._stand_ins(workflow, spec.get("data", {}), actor)
            view = self.engine.create_case(workflow, data, actor, subject=spec.get("subject"))
        except QingliuError as exc:
            return self._refusal(step, exc, what)
        self.cases[spec.get("name", workflow)] = view.id
        self.current = view.id
        return self._refusal(step, None, what)

    def case_id(self, step: Step, ref: Any, key: tuple[Any, ...]) -> int | None:
        """The case a step means: a name, ``{workflow, subject}`` (the latest such case), or
        by default the case the last ``create`` opened."""
        if ref is None:
            if self.current is None:
                self.fail(key, "no case yet: create one first")
            return self.current
        if isinstance(ref, str):
            if ref not in self.cases:
                self.fail((*key, "case"), f"no case named {ref!r}", sorted(self.cases), ref)
            return self.cases.get(ref)
        found = self.engine.list_cases(
            None, workflow=ref["workflow"], subject=ref.get("subject"), limit=100_000
        )
        if not found:
            self.fail((*key, "case"), f"no {ref['workflow']} case", ref, "none")
            return None
        return max(v.id for v in found)

    def _fire(self, step: Step) -> bool:
        spec = step.spec
        case_id = self.case_id(step, spec.get("case"), step.path)
        if case_id is None:
            return False
        actor = self.scenario.actors[spec["as"]]
        what = f"fire {spec['fire']} on case #{case_id} as {actor.name}"
        try:
            workflow = self.engine.get_case(case_id, None).case.workflow
            payload = self._stand_ins(
                workflow, spec.get("payload", {}), actor, spec["fire"], case_id
            )
            self.engine.fire(case_id, spec["fire"], actor, payload)
        except QingliuError as exc:
            return self._refusal(step, exc, what)
        return self._refusal(step, None, what)

    def _stand_ins(
        self,
        workflow: str,
        values: dict[str, Any],
        actor: Actor,
        trigger: str | None = None,
        case_id: int | None = None,
    ) -> dict[str, Any]:
        """Attachments named by a string (``photos: [a.jpg]``) become uploaded stand-ins."""
        d = self.engine.definition(workflow)[1]
        attachments = self.engine.attachments
        return stand_in(attachments, d, values, actor, trigger=trigger, case_id=case_id)

    def _advance(self, step: Step) -> bool:
        target = advance_target(self.engine, self.clock.now(), step.spec["advance"])
        return self._drive(step, target, "advance")

    def _until(self, step: Step) -> bool:
        target = parse_moment(step.spec["until"], self.zone)
        if target < self.clock.now():
            now = local(self.clock.now(), self.zone)
            self.fail(
                (*step.path, "until"), "time runs forward only", f"after {now}", step.spec["until"]
            )
            return False
        return self._drive(step, target, "until")

    def _drive(self, step: Step, target: Any, key: str) -> bool:
        done = drive(self.engine, self.clock, target, after_each=self.collect)
        fired = sum(1 for f in done.firings if f.outcome == "fired")
        self.note(f"now {local(self.clock.now(), self.zone)}; {fired} timer(s) fired")
        if done.stuck:
            self.fail((*step.path, key), done.stuck)
            return False
        return True

    def _expect(self, step: Step) -> bool:
        spec = step.spec["expect"]
        base = (*step.path, "expect")
        view = None
        if not set(spec) <= {"cases", "as"}:  # else about the whole sandbox: no case needed
            case_id = self.case_id(step, spec.get("case"), base)
            if case_id is None:
                return True
            view = self.engine.get_case(case_id)
        found = check_expect(self.engine, self.scenario, base, spec, view, self.zone)
        self.result.failures.extend(found)
        return True


def describe(step: Step, step_workflow: str) -> str:
    spec = step.spec
    if step.kind == "create":
        return f"create {spec['create'] or step_workflow} as {spec['as']}"
    if step.kind == "fire":
        case = spec.get("case")
        on = f" on {case}" if isinstance(case, str) else f" on {case['workflow']}" if case else ""
        return f"fire {spec['fire']}{on} as {spec['as']}"
    if step.kind == "expect":
        return "expect " + ", ".join(k for k in spec["expect"] if k != "as")
    return f"{step.kind} {spec[step.kind]}"


def publish_all(
    engine: Engine,
    folder: Sequence[Path],
    names: list[str] | None,
    workflow: str,
    draft: Draft | None,
) -> dict[str, int]:
    """Publish the folder's definitions (with ``names``: those and ``workflow`` only), then
    the draft, which becomes the latest version of its name."""
    definitions, problems = engine.catalog.check_files(definition_files(folder))
    if problems:
        raise DefinitionError(problems)
    versions: dict[str, int] = {}
    for d in definitions:
        if names is None or d.name in names or d.name == workflow:
            versions[d.name] = engine.publish(d.source_text, source=d.name).version
    if draft is not None:
        versions[workflow] = engine.publish(draft.text, source=draft.source).version
    return versions


def run_scenario(
    parts: Sandbox,
    scenario: Scenario,
    workflow: str,
    *,
    folder: Sequence[Path] = (),
    texts: Sequence[str] = (),
    draft: Draft | None = None,
) -> Result:
    """Run ``scenario`` on ``workflow`` (its latest version: ``draft`` when given), beside the
    definitions of ``folder`` (files) or ``texts`` (already published sources)."""
    clock = FakeClock(scenario.start)
    with sandbox(parts, clock) as engine:
        versions = {}
        for text in texts:
            published = engine.publish(text, source="<published>")
            versions[published.name] = published.version
        versions.update(publish_all(engine, folder, scenario.workflows, workflow, draft))
        engine.definition(workflow)  # WorkflowNotFound when the workflow is not there
        run = _Run(engine, clock, scenario, workflow)
        result = run.run()
        result.versions = versions
        return result
