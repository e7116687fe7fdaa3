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

from engine import aggregates
from engine.access import OPENED, Access
from engine.admin_ops import CaseAdmin
from engine.blobs import Attachments, BlobStore, MemoryBlobStore
from engine.case_ops import TxOps
from engine.catalog import Catalog, Published
from engine.clock import Clock, SystemClock
from engine.definition.compile import CompiledWorkflow
from engine.definition.model import ADMIN, SYSTEM, Definition, TransitionSpec
from engine.errors import (
    DuplicateOpenCase,
    FieldError,
    Forbidden,
    InvalidInput,
    StaleVersion,
    TriggerNotAllowed,
)
from engine.handlers import Actor, CaseOps, Context, Registry
from engine.history import (
    GENESIS,
    HISTORY_KEY,
    NOTE_KINDS,
    chain_hash,
    diff,
    event_row,
)
from engine.keys import KeyRing
from engine.metrics import instruments
from engine.migration import Migrations
from engine.roles import RoleBook
from engine.scope import Scope
from engine.sealing import Sealer
from engine.settable import judged, owned
from engine.sign_off import SignOff
from engine.store.repository import CaseRow, DefinitionRow, Store, Tx
from engine.time.arming import Arming
from engine.time.calendar import WorkingCalendar
from engine.time.notes import Armed
from engine.time.timers import TimerPlanner
from engine.views import CaseView
from engine.worklist import Worklist

__all__ = ["Engine"]


class Engine(CaseAdmin, Migrations, Worklist):
    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock | None = None,
        calendar: WorkingCalendar | None = None,
        scope: Scope | None = None,
        reference: Mapping[str, Any] | None = None,
        keys: KeyRing | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.catalog = Catalog(registry)
        self.planner = TimerPlanner(calendar or WorkingCalendar())
        self.arming = Arming(self.planner)
        self.scope = scope or Scope()
        self.reference = reference or {}
        self.roles = RoleBook.from_reference(self.reference)
        self.access = Access(self.scope, self.roles)
        # Keys kept outside the database (the history chain's, the sealing key).
        self.keys = keys or KeyRing()
        self.sealer = Sealer(self.keys)
        self.sign_off = SignOff(self)
        # Evidence files: without a blob store (settings.blobs_dir), kept in memory.
        self.attachments = Attachments(self, blobs or MemoryBlobStore())

    # -- definitions --------------------------------------------------------------------------

    def load(self, paths: Iterable[str | Path], *, force: bool = False) -> list[Published]:
        """Import definition files: the database holds the versions (``engine.catalog``)."""
        with self.store.write() as tx:
            return self.catalog.publish_files(tx, paths, self.clock.now(), force=force)

    def publish(self, text: str, source: str = "<api>", by: Actor | None = None) -> Published:
        """Publish text given through the API by admin ``by``."""
        with self.store.write() as tx:
            name = by.name if by is not None else None
            return self.catalog.publish_text(tx, text, source, self.clock.now(), name)

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
            now = self.clock.now()
            ops = TxOps(
                tx, actor, now, self._create, self.scope, None, self.open_case_for, keys=self.keys
            )
            yield tx, ops

    def create_case(
        self,
        workflow: str,
        data: Mapping[str, Any],
        actor: Actor,
        subject: str | None = None,
    ) -> CaseView:
        with self.store.write() as tx:
            now = self.clock.now()
            return self._create(tx, workflow, dict(data), actor, subject, now, by_caller=True)

    def _create(
        self,
        tx: Tx,
        workflow: str,
        data: dict[str, Any],
        actor: Actor,
        subject: str | None,
        now: datetime,
        wall: datetime | None = None,
        *,
        by_caller: bool = False,
    ) -> CaseView:
        """``by_caller``: the data comes from the caller (the API, the CLI), not a handler, so
        it may not set the fields handlers own (``readOnly``). ``now`` is the logical time
        (a timer's due time when a late firing opens the case); ``wall``, when it differs,
        the real moment, kept as the ``created`` row's ``at`` (its ``due_at`` is ``now``)."""
        definition, wf = self.catalog.latest_row(tx, workflow)
        d = wf.definition
        if actor.role not in (ADMIN, SYSTEM) and actor.role not in d.roles:
            raise Forbidden(f"role {actor.role!r} may not open {workflow!r} cases", role=actor.role)
        errors = wf.data_errors(data)
        if by_caller:
            errors += owned(d, data)
        if errors:
            raise InvalidInput("data", errors)
        jurisdiction = data.get(d.jurisdiction_field)
        jurisdiction = str(jurisdiction) if jurisdiction is not None else None
        if jurisdiction is not None and not self.scope.knows(jurisdiction):
            message = f"unknown jurisdiction {jurisdiction!r} (config/reference/jurisdictions.yaml)"
            raise InvalidInput("data", [FieldError(f"$.{d.jurisdiction_field}", message)])
        if not self.scope.covers(actor, jurisdiction):
            raise Forbidden(f"{actor.name} may not open cases in {jurisdiction}", role=actor.role)
        values: dict[str, Any] = {
            "definition_id": definition.id,
            "workflow": d.name,
            "workflow_version": definition.version,
            "state": d.initial,
            # Confidential values are sealed with the case id: the row is written without
            # them first, so no plaintext reaches the database.
            "data": {} if d.confidential else data,
            "version": 0,
            "subject": subject,
            "jurisdiction": jurisdiction,
            "is_open": not d.is_final(d.initial),
            "subject_unique": d.one_open_case_per_subject,
            "last_hash": GENESIS,
            "created_at": now,
            "updated_at": now,
        }
        case_id = self._insert_case(tx, d, values, subject, actor)
        row = CaseRow(id=case_id, **values)
        opener = self.access.opener(actor)
        if opener is not None:
            tx.add_party(case_id, opener, OPENED)
        ctx = self._context(tx, row, "create", None, d.initial, {}, actor, now, wall=wall)
        ctx.data = data
        wf.enter_initial(ctx)
        self._check_data(wf, ctx.data)
        self.attachments.check(tx, wf, case_id, {}, ctx.data, actor, trusted=not by_caller)
        if d.party_fields:
            tx.rename_parties(case_id, self.access.parties_of(d, ctx.data))
        armed = self.arming.on_create(tx, d, case_id, ctx.data, now)
        stored = self.sealer.seal(d, case_id, ctx.data) if d.confidential else ctx.data
        event = event_row(row, "created", actor, wall or now, {}, diff({}, stored))
        event.update(to_state=d.initial, payload=armed.annotate({}))
        if wall is not None and wall != now:
            event["due_at"] = now  # opened by a late firing: its logical time
        return self.sign_off.settle(
            tx, wf, None, self._commit(tx, wf, row, event, stored, d.initial)
        )

    def _insert_case(
        self, tx: Tx, d: Definition, values: dict[str, Any], subject: str | None, actor: Actor
    ) -> int:
        """Subjects are unique per workflow and jurisdiction among open cases."""
        if not (d.one_open_case_per_subject and subject is not None):
            return tx.insert_case(values)
        jurisdiction = values["jurisdiction"]
        existing = tx.open_case_for_subject(d.name, subject, jurisdiction)
        case_id = tx.try_insert_case(values) if existing is None else None
        if case_id is None:
            existing = tx.open_case_for_subject(d.name, subject, jurisdiction)
            found = tx.get_case(existing) if existing is not None else None
            shown = existing if found is not None and self.may_read(tx, found, actor) else None
            raise DuplicateOpenCase(d.name, subject, shown)
        return case_id

    def open_case_for(
        self, tx: Tx, workflow: str, data: Mapping[str, Any], subject: str
    ) -> int | None:
        """The open case of ``workflow`` about ``subject`` in the jurisdiction ``data`` names."""
        d = self.catalog.latest_row(tx, workflow)[1].definition
        jurisdiction = data.get(d.jurisdiction_field)
        return tx.open_case_for_subject(
            workflow, subject, str(jurisdiction) if jurisdiction is not None else None
        )

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
        settling: int = 0,
    ) -> CaseView:
        """``timer`` (the sweep) is recorded in the history row's payload under ``_timer``;
        ``settling``: the engine completes a sign-off (``engine.sign_off``), how many deep."""
        row = self._load(tx, case_id, actor, lock=True)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(case_id, expected_version, row.version)
        wf = self.catalog.compiled(tx, row.definition_id)
        if not row.is_open:
            closed = f"case is closed in final state {row.state!r}"
            if not wf.definition.is_final(row.state):
                closed = f"case was cancelled in {row.state!r} (an admin may reopen it)"
            raise TriggerNotAllowed(case_id, trigger, row.state, [], closed)
        # The logical now: a timer's firing happens at its due time, whenever the sweep ran
        # (docs/timers.md, "Logical time of a firing"); the history row keeps the real moment.
        wall = self.clock.now()
        now = due_at or wall
        body = dict(payload or {})
        ctx = self._context(tx, row, trigger, row.state, None, body, actor, now, wall=wall)
        signed = (
            None
            if settling
            else self.sign_off.intercept(tx, wf, row, trigger, actor, body, ctx.data)
        )
        if signed is not None:
            return signed
        taken = wf.fire(row.state, trigger, ctx)
        d = wf.definition
        self._check_fired(tx, wf, taken, row, ctx)
        trusted = actor.role == SYSTEM  # the sweep, the engine: the values come from handlers
        self.attachments.check(
            tx, wf, case_id, row.data, ctx.data, actor, (taken, body), trusted=trusted
        )
        dest = taken.dest if taken.dest is not None else row.state
        armed = Armed()
        if not taken.internal:
            armed = self.arming.on_transition(
                tx, wf.definition, case_id, row.state, dest, ctx.data, now, wall
            )
        armed.notes.extend(self.arming.follow_data(tx, wf.definition, case_id, row.data, ctx.data))
        recorded = armed.annotate({**body, "_timer": dict(timer)} if timer is not None else body)
        stored = ctx.data
        if d.confidential:  # sealed in the row, the payload and the patch alike
            stored = self.sealer.seal(d, case_id, ctx.data)
            recorded = self.sealer.seal(d, case_id, recorded)
        event = event_row(row, "transition", actor, wall, recorded, diff(row.data, stored))
        event.update(trigger=trigger, transition=taken.index, from_state=row.state)
        event.update(to_state=dest, due_at=due_at)
        view = self._commit(tx, wf, row, event, stored, dest)
        instruments().transition(d.name, trigger)  # GET /metrics
        for note in armed.notes:
            view = self.record_in(tx, case_id, note.kind, note.payload, actor, due_at=due_at)
        return self.sign_off.settle(tx, wf, taken, view, settling)

    def _check_fired(
        self, tx: Tx, wf: CompiledWorkflow, taken: TransitionSpec, row: CaseRow, ctx: Context
    ) -> None:
        """After a transition's actions: a merged payload set no field that handlers own or
        that the `when` judged, the data fits its schema, the case stayed in its jurisdiction;
        the named parties follow the data."""
        d = wf.definition
        if taken.merge_payload and ctx.actor.role != SYSTEM:
            refused = owned(d, ctx.payload) + judged(wf.judged[taken.index], ctx.payload)
            if refused:
                raise InvalidInput("payload", refused)
        self._check_data(wf, ctx.data)
        moved = ctx.data.get(d.jurisdiction_field)
        if row.jurisdiction is not None and (moved is None or str(moved) != row.jurisdiction):
            message = f"a case stays in its jurisdiction ({row.jurisdiction})"
            raise InvalidInput("payload", [FieldError(f"$.{d.jurisdiction_field}", message)])
        if d.party_fields:
            named = self.access.parties_of(d, ctx.data)
            if named != self.access.parties_of(d, self._plain_data(tx, row)):
                tx.rename_parties(row.id, named)

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

    # -- internals ----------------------------------------------------------------------------

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
        # Numbered and linked into the global chain, with the key kept outside the database,
        # when the write commits (engine/store/_chain.py).
        tx.append_event(event, self.keys.get(HISTORY_KEY))
        updated = CaseRow(**{**row.__dict__, **values})
        return self._view(tx, wf, updated, None)

    def _view(self, tx: Tx, wf: CompiledWorkflow, row: CaseRow, actor: Actor | None) -> CaseView:
        return self.seen_by(tx, wf, row, actor)

    def count_subjects(self, actor: Actor | None, kind: str, group_by: Any, **where: Any) -> Any:
        """Grouped subject counts in the actor's read scope (``engine.aggregates``)."""
        return aggregates.count_subjects(self, actor, kind, group_by, **where)
