"""The engine facade: the one API that the CLI, the HTTP API, the scheduler and tests call.

Every change is one database transaction: the case row (compare-and-set on its version), the
history row with its hash, timer changes and any rows a handler writes commit together or not
at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.case_ops import TxOps
from engine.catalog import Catalog, Published
from engine.clock import Clock, SystemClock
from engine.definition.compile import CompiledWorkflow
from engine.definition.model import ADMIN, SYSTEM, Definition
from engine.errors import (
    CaseNotFound,
    DuplicateOpenCase,
    Forbidden,
    InvalidInput,
    StaleVersion,
    TriggerNotAllowed,
)
from engine.handlers import Actor, CaseOps, Context, Registry
from engine.history import (
    GENESIS,
    NOTE_KINDS,
    Replay,
    chain_hash,
    copy_data,
    diff,
    event_row,
    replay,
    verify_chains,
)
from engine.scope import Scope
from engine.store.repository import CaseRow, DefinitionRow, EventRow, Store, Tx
from engine.time.arming import Arming
from engine.time.calendar import WorkingCalendar
from engine.time.notes import Armed
from engine.time.preview import TimerPreview, preview
from engine.time.timers import TimerPlanner
from engine.views import CaseView

__all__ = ["Engine"]


class Engine:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock | None = None,
        calendar: WorkingCalendar | None = None,
        scope: Scope | None = None,
        reference: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.catalog = Catalog(registry)
        self.planner = TimerPlanner(calendar or WorkingCalendar())
        self.arming = Arming(self.planner)
        self.scope = scope or Scope()
        self.reference = reference or {}

    # -- definitions --------------------------------------------------------------------------

    def load(self, paths: Iterable[str | Path]) -> list[Published]:
        with self.store.write() as tx:
            return self.catalog.publish_files(tx, paths, self.clock.now())

    def publish(self, text: str, source: str = "<api>") -> Published:
        with self.store.write() as tx:
            return self.catalog.publish_text(tx, text, source, self.clock.now())

    def definitions(self) -> list[DefinitionRow]:
        with self.store.read() as tx:
            return tx.latest_definitions()

    def definition(self, name: str, version: int | None = None) -> tuple[DefinitionRow, Definition]:
        with self.store.read() as tx:
            definition_id, compiled = self.catalog.latest(tx, name, version)
            row = tx.definition_by_id(definition_id)
            assert row is not None
            return row, compiled.definition

    # -- cases --------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, actor: Actor) -> Iterator[tuple[Tx, CaseOps]]:
        """One write transaction for domain services (e.g. the outfall ledger): the ``Tx`` and
        the ``CaseOps`` a handler would get, acting as ``actor``. All or nothing."""
        with self.store.write() as tx:
            yield tx, TxOps(tx, actor, self.clock.now(), self._create, self.scope)

    def create_case(
        self,
        workflow: str,
        data: Mapping[str, Any],
        actor: Actor,
        subject: str | None = None,
    ) -> CaseView:
        with self.store.write() as tx:
            view = self._create(tx, workflow, dict(data), actor, subject, self.clock.now())
        return view

    def _create(
        self,
        tx: Tx,
        workflow: str,
        data: dict[str, Any],
        actor: Actor,
        subject: str | None,
        now: datetime,
    ) -> CaseView:
        definition, wf = self.catalog.latest_row(tx, workflow)
        d = wf.definition
        if actor.role not in (ADMIN, SYSTEM) and actor.role not in d.roles:
            raise Forbidden(f"role {actor.role!r} may not open {workflow!r} cases", role=actor.role)
        errors = wf.data_errors(data)
        if errors:
            raise InvalidInput("data", errors)
        jurisdiction = data.get(d.jurisdiction_field)
        jurisdiction = str(jurisdiction) if jurisdiction is not None else None
        if not self.scope.covers(actor, jurisdiction):
            raise Forbidden(f"{actor.name} may not open cases in {jurisdiction}", role=actor.role)
        values: dict[str, Any] = {
            "definition_id": definition.id,
            "workflow": d.name,
            "workflow_version": definition.version,
            "state": d.initial,
            "data": data,
            "version": 0,
            "subject": subject,
            "jurisdiction": jurisdiction,
            "is_open": not d.is_final(d.initial),
            "last_hash": GENESIS,
            "created_at": now,
            "updated_at": now,
        }
        case_id = self._insert_case(tx, d, values, subject)
        row = CaseRow(id=case_id, **values)
        ctx = self._context(tx, row, "create", None, d.initial, {}, actor, now)
        ctx.data = data
        wf.enter_initial(ctx)
        self._check_data(wf, ctx.data)
        armed = self.arming.on_create(tx, d, case_id, ctx.data, now)
        event = event_row(row, "created", actor, now, ctx.data, diff({}, ctx.data))
        event.update(to_state=d.initial, payload=armed.annotate({}))
        return self._commit(tx, wf, row, event, ctx.data, d.initial)

    def _insert_case(
        self, tx: Tx, d: Definition, values: dict[str, Any], subject: str | None
    ) -> int:
        if not (d.one_open_case_per_subject and subject is not None):
            return tx.insert_case(values)
        existing = tx.open_case_for_subject(d.name, subject)
        case_id = tx.try_insert_case(values) if existing is None else None
        if case_id is None:
            existing = tx.open_case_for_subject(d.name, subject)
            raise DuplicateOpenCase(d.name, subject, existing or 0)
        return case_id

    def fire(
        self,
        case_id: int,
        trigger: str,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        *,
        due_at: datetime | None = None,
    ) -> CaseView:
        """Fire ``trigger``. ``due_at`` (timers) is the moment the firing was due: the next
        timers count from it, so a late sweep lands a case where a punctual one would have."""
        with self.store.write() as tx:
            return self.fire_in(tx, case_id, trigger, actor, payload, expected_version, due_at)

    def fire_in(
        self,
        tx: Tx,
        case_id: int,
        trigger: str,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        due_at: datetime | None = None,
        *,
        timer: Mapping[str, Any] | None = None,
    ) -> CaseView:
        """``timer`` (the sweep) is recorded in the history row's payload under ``_timer``."""
        row = self._load(tx, case_id, actor, lock=True)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(case_id, expected_version, row.version)
        wf = self.catalog.compiled(tx, row.definition_id)
        if not row.is_open:
            raise TriggerNotAllowed(
                case_id, trigger, row.state, [], f"case is closed in final state {row.state!r}"
            )
        now = self.clock.now()
        body = dict(payload or {})
        ctx = self._context(tx, row, trigger, row.state, None, body, actor, now)
        taken = wf.fire(row.state, trigger, ctx)
        self._check_data(wf, ctx.data)
        dest = taken.dest if taken.dest is not None else row.state
        armed = Armed()
        if not taken.internal:
            base = due_at or now
            armed = self.arming.on_transition(
                tx, wf.definition, case_id, row.state, dest, ctx.data, base, now
            )
        armed.notes.extend(self.arming.follow_data(tx, wf.definition, case_id, row.data, ctx.data))
        recorded = armed.annotate({**body, "_timer": dict(timer)} if timer is not None else body)
        event = event_row(row, "transition", actor, now, recorded, diff(row.data, ctx.data))
        event.update(trigger=trigger, transition=taken.index, from_state=row.state)
        event.update(to_state=dest, due_at=due_at)
        view = self._commit(tx, wf, row, event, ctx.data, dest)
        for note in armed.notes:
            view = self.record_in(tx, case_id, note.kind, note.payload, actor, due_at=due_at)
        return view

    def record_in(
        self,
        tx: Tx,
        case_id: int,
        kind: str,
        payload: Mapping[str, Any],
        actor: Actor | None = None,
        *,
        due_at: datetime | None = None,
    ) -> CaseView:
        """Append a history row that moves neither state nor data (``NOTE_KINDS``: a skipped
        timer, a paused or resumed deadline, a recomputed or moved due time); the version
        increments."""
        if kind not in NOTE_KINDS:
            raise ValueError(f"{kind!r} is not a note kind ({', '.join(sorted(NOTE_KINDS))})")
        row = self._load(tx, case_id, None, lock=True)
        wf = self.catalog.compiled(tx, row.definition_id)
        event = event_row(row, kind, actor or Actor.system(), self.clock.now(), payload, {})
        event["due_at"] = due_at
        return self._commit(tx, wf, row, event, row.data, row.state)

    def timers_preview(self, case_id: int, actor: Actor | None = None) -> TimerPreview:
        """Every live timer and deadline of the case with its due time, and when each timer of
        its current state would fall if armed now."""
        with self.store.read() as tx:
            row = self._load(tx, case_id, actor)
            wf = self.catalog.compiled(tx, row.definition_id)
            return preview(self.arming, wf.definition, row, tx.live_timers(case_id), self.clock)

    # -- reading ------------------------------------------------------------------------------

    def get_case(self, case_id: int, actor: Actor | None = None) -> CaseView:
        with self.store.read() as tx:
            return self.get_case_in(tx, case_id, actor)

    def get_case_in(self, tx: Tx, case_id: int, actor: Actor | None = None) -> CaseView:
        """The case as ``actor`` sees it (with its available triggers), inside ``tx``."""
        row = self._load(tx, case_id, actor)
        wf = self.catalog.compiled(tx, row.definition_id)
        return self._view(tx, wf, row, actor)

    def available_triggers(self, case_id: int, actor: Actor) -> list[str]:
        view = self.get_case(case_id, actor)
        return list(view.available_triggers or [])

    def history(self, case_id: int, actor: Actor | None = None) -> list[EventRow]:
        with self.store.read() as tx:
            self._load(tx, case_id, actor)
            return tx.events(case_id)

    def list_cases(
        self, actor: Actor | None = None, *, jurisdiction: str | None = None, **filters: Any
    ) -> list[CaseView]:
        """Cases ``actor`` reaches (None: every case), in ``jurisdiction`` and beneath it if
        given; ``filters`` as ``Tx.list_cases`` takes them."""
        with self.store.read() as tx:
            rows = tx.list_cases(jurisdictions=self.scope.narrow(actor, jurisdiction), **filters)
            return [
                self._view(tx, self.catalog.compiled(tx, r.definition_id), r, None) for r in rows
            ]

    def replay(self, case_id: int) -> tuple[CaseRow, Replay]:
        with self.store.read() as tx:
            row = self._load(tx, case_id, None)
            wf = self.catalog.compiled(tx, row.definition_id)
            return row, replay(wf.definition, tx.events(case_id))

    def verify_audit(self) -> list[str]:
        """One sentence per broken chain (the first broken row of each); empty when sound."""
        with self.store.read() as tx:
            return verify_chains(tx)

    # -- internals ----------------------------------------------------------------------------

    def _load(self, tx: Tx, case_id: int, actor: Actor | None, *, lock: bool = False) -> CaseRow:
        """The case row; ``lock`` (writes) holds its row lock first (``Tx.lock_case``)."""
        row = tx.lock_case(case_id) if lock else tx.get_case(case_id)
        if row is None or (actor is not None and not self.scope.covers(actor, row.jurisdiction)):
            raise CaseNotFound(case_id)  # another jurisdiction's case does not exist for you
        return row

    def _context(
        self,
        tx: Tx,
        row: CaseRow,
        trigger: str,
        source: str | None,
        dest: str | None,
        payload: Mapping[str, Any],
        actor: Actor,
        now: datetime,
    ) -> Context:
        return Context(
            case_id=row.id,
            workflow=row.workflow,
            trigger=trigger,
            source=source or "",
            dest=dest,
            data=copy_data(row.data),
            payload=payload,
            actor=actor,
            now=now,
            subject=row.subject,
            ops=TxOps(tx, actor, now, self._create, self.scope),
            reference=self.reference,
        )

    @staticmethod
    def _check_data(wf: CompiledWorkflow, data: Mapping[str, Any]) -> None:
        errors = wf.data_errors(data)
        if errors:
            raise InvalidInput("data", errors)

    def _commit(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        row: CaseRow,
        event: dict[str, Any],
        data: dict[str, Any],
        state: str,
    ) -> CaseView:
        event["hash"] = chain_hash(row.last_hash, event)
        values = {
            "state": state,
            "data": data,
            "version": event["seq"],
            "is_open": not wf.definition.is_final(state),
            "last_hash": event["hash"],
            "updated_at": event["at"],
        }
        if not tx.update_case(row.id, row.version, values):
            current = tx.get_case(row.id)
            raise StaleVersion(row.id, row.version, current.version if current else -1)
        tx.append_event(event)
        updated = CaseRow(**{**row.__dict__, **values})
        return self._view(tx, wf, updated, None)

    def _view(self, tx: Tx, wf: CompiledWorkflow, row: CaseRow, actor: Actor | None) -> CaseView:
        state = wf.definition.states[row.state]
        available = None
        if actor is not None:
            available = wf.available(row.state, row.data, actor.role) if row.is_open else []
        # Every timer row of a case comes from its definition's timers or deadlines: a
        # definition without either has none to read.
        d = wf.definition
        live = tx.live_timers(row.id) if d.timers or d.deadlines else []
        return CaseView(row, state.title, state.final, live, available)
