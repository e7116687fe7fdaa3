"""The reading half of the engine facade: cases, lists, history and timers as an actor may see
them. Every read asks ``engine.access`` (role × jurisdiction × relation) and redacts the
confidential fields the actor may not read; a case it may not read does not exist for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from engine.access import Access
from engine.case_ops import Create, FindOpen, TxOps
from engine.catalog import Catalog
from engine.clock import Clock
from engine.definition.compile import CompiledWorkflow
from engine.definition.model import Definition
from engine.errors import CaseNotFound, WorkflowNotFound
from engine.handlers import Actor, Context
from engine.history import MIGRATED, Replay, copy_data, replay, verify_chains
from engine.keys import KeyRing
from engine.migration_plan import require_admin
from engine.scope import Scope
from engine.sealing import Sealer
from engine.sign_off import SignOff
from engine.store.repository import CaseRow, DefinitionRow, EventRow, Store, TimerRow, Tx
from engine.time.arming import Arming
from engine.time.preview import TimerPreview, preview
from engine.views import CaseView

__all__ = ["Reads"]


class Reads:
    """Mixed into ``Engine``, whose attributes and methods below it uses."""

    store: Store
    catalog: Catalog
    scope: Scope
    access: Access
    sealer: Sealer
    sign_off: SignOff
    keys: KeyRing
    arming: Arming
    clock: Clock
    reference: Mapping[str, Any]
    _create: Create
    open_case_for: FindOpen

    def workflow_versions(self, name: str) -> list[DefinitionRow]:
        """Every published version of ``name``, oldest first (none: ``WorkflowNotFound``)."""
        with self.store.read() as tx:
            found = tx.definition_versions(name)
        if not found:
            raise WorkflowNotFound(name)
        return found

    def running_by_version(
        self, actor: Actor, workflow: str | None = None
    ) -> dict[tuple[str, int], int]:
        """``(workflow, version) -> running cases`` over every jurisdiction, for the admin
        only (one grouped count; a version without running cases is absent)."""
        require_admin(actor)
        with self.store.read() as tx:
            rows = tx.count_cases(("workflow", "workflow_version"), workflow=workflow, is_open=True)
        return {(str(w), int(v)): n for (w, v), n in rows}

    def get_case(self, case_id: int, actor: Actor | None = None) -> CaseView:
        with self.store.read() as tx:
            return self.get_case_in(tx, case_id, actor)

    def get_case_in(self, tx: Tx, case_id: int, actor: Actor | None = None) -> CaseView:
        """The case as ``actor`` sees it (with its available triggers), inside ``tx``."""
        row = self._load(tx, case_id, actor)
        wf = self.catalog.compiled(tx, row.definition_id)
        return self.seen_by(tx, wf, row, actor)

    def available_triggers(self, case_id: int, actor: Actor) -> list[str]:
        view = self.get_case(case_id, actor)
        return list(view.available_triggers or [])

    def history(self, case_id: int, actor: Actor | None = None) -> list[EventRow]:
        """The case's events, each payload and patch redacted as ``actor`` may see them."""
        with self.store.read() as tx:
            row = self._load(tx, case_id, actor)
            wf = self.catalog.compiled(tx, row.definition_id)
            d = wf.definition
            found = tx.events(case_id)
            if not d.confidential:
                return found
            relation = self._relation(tx, row.id, actor)
            released = self._released(d, row)
            out = []
            for e in found:
                payload = self.sealer.open(d, case_id, e.payload)
                patch = self.sealer.open_patch(d, case_id, e.patch)
                given = {**payload, **patch.get("set", {})}
                hidden = self.access.hidden(actor, d, given, relation, released)
                payload = self.access.redact(payload, hidden)
                patch = self.access.redact_patch(patch, hidden)
                out.append(dataclasses.replace(e, payload=payload, patch=patch))
            return out

    def list_cases(
        self, actor: Actor | None = None, *, jurisdiction: str | None = None, **filters: Any
    ) -> list[CaseView]:
        """Cases ``actor`` may read (None: every case), in ``jurisdiction`` and beneath it if
        given; ``filters`` as ``Tx.list_cases`` takes them."""
        with self.store.read() as tx:
            within = self.access.list_filter(actor, self._latest(tx))
            if "workflows" in within and filters.get("workflow") is not None:
                if filters["workflow"] not in within["workflows"]:
                    return []
                within.pop("workflows")
            rows = tx.list_cases(
                jurisdictions=self.scope.narrow(actor, jurisdiction), **within, **filters
            )
            views = []
            for r in rows:
                wf = self.catalog.compiled(tx, r.definition_id)
                views.append(self.seen_by(tx, wf, r, actor, with_triggers=False))
            return views

    def case_path(
        self, case_id: int, actor: Actor | None = None
    ) -> tuple[Definition, CaseRow, list[EventRow]]:
        """The case's definition (its own version), row and history, for its diagram: read as
        ``get_case`` reads (a case the actor may not read does not exist for it)."""
        with self.store.read() as tx:
            row = self._load(tx, case_id, actor)
            return self.catalog.compiled(tx, row.definition_id).definition, row, tx.events(case_id)

    def timers_preview(self, case_id: int, actor: Actor | None = None) -> TimerPreview:
        """Every live timer and deadline of the case with its due time, and when each timer of
        its current state would fall if armed now."""
        with self.store.read() as tx:
            row = self._load(tx, case_id, actor)
            wf = self.catalog.compiled(tx, row.definition_id)
            return preview(self.arming, wf.definition, row, tx.live_timers(case_id), self.clock)

    def replay(self, case_id: int) -> tuple[CaseRow, Replay]:
        with self.store.read() as tx:
            row = self._load(tx, case_id, None)
            wf = self.catalog.compiled(tx, row.definition_id)
            events = tx.events(case_id)
            versions = {
                int(e.payload[key]): self.catalog.latest_row(tx, row.workflow, int(e.payload[key]))[
                    1
                ].definition
                for e in events
                if e.kind == MIGRATED
                for key in ("from_version", "to_version")
            }
            return row, replay(wf.definition, events, versions)

    def verify_audit(self) -> list[str]:
        """One sentence per broken chain (the first broken row of each); empty when sound."""
        with self.store.snapshot() as tx:
            return verify_chains(tx, self.keys)

    # -- the decision, for one case -----------------------------------------------------------

    def may_read(self, tx: Tx, row: CaseRow, actor: Actor | None) -> bool:
        if self.access.all_seeing(actor):
            return True
        assert actor is not None
        wf = self.catalog.compiled(tx, row.definition_id)
        relation = self._relation(tx, row.id, actor)
        return self.access.may_read(actor, wf.definition, row.jurisdiction, relation)

    def _relation(self, tx: Tx, case_id: int, actor: Actor | None) -> str | None:
        if actor is None or not self.access.is_party(actor):
            return None
        return tx.party_relation(case_id, actor.name)

    def _load(self, tx: Tx, case_id: int, actor: Actor | None, *, lock: bool = False) -> CaseRow:
        """The case row if ``actor`` may read it; ``lock`` (writes) holds its row lock first
        (``Tx.lock_case``). A case the actor may not read does not exist for it."""
        row = tx.lock_case(case_id) if lock else tx.get_case(case_id)
        if row is None or not self.may_read(tx, row, actor):
            raise CaseNotFound(case_id)
        return row

    def _latest(self, tx: Tx) -> list[Any]:
        return [self.catalog.compiled(tx, r.id).definition for r in tx.latest_definitions()]

    def seen_by(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        row: CaseRow,
        actor: Actor | None,
        *,
        with_triggers: bool = True,
        timers: list[TimerRow] | None = None,
    ) -> CaseView:
        """The view of ``row`` for ``actor``: its live timers (``timers`` if read already),
        the triggers it may fire now (``with_triggers``) and its data without the
        confidential fields it may not read."""
        d = wf.definition
        state = d.states[row.state]
        available = None
        hidden: frozenset[str] = frozenset()
        if actor is not None and with_triggers:
            available = self._available(tx, wf, row, actor) if row.is_open else []
        opened = self.sealer.open(d, row.id, row.data) if d.confidential else row.data
        sign_off = self.sign_off.seen(tx, d, row, opened) if row.is_open else None
        if d.confidential:
            if actor is not None:
                relation = self._relation(tx, row.id, actor)
                released = self.access.released(d, opened, self._today())
                hidden = self.access.hidden(actor, d, opened, relation, released)
            row = dataclasses.replace(row, data=self.access.redact(opened, hidden))
        # Every timer row of a case comes from its definition's timers or deadlines: a
        # definition without either has none to read.
        if timers is None:
            timers = tx.live_timers(row.id) if d.timers or d.deadlines else []
        live = timers
        shown = sign_off.to_json() if sign_off is not None else None
        return CaseView(row, state.title, state.final, live, available, hidden, shown)

    def _today(self) -> date:
        return self.arming.calendar.local_date(self.clock.now())

    def _released(self, d: Definition, row: CaseRow) -> frozenset[str]:
        """The confidential fields of the case that their ``until`` dates have released."""
        if not any(spec.until for spec in d.confidential.values()):
            return frozenset()
        return self.access.released(d, self.sealer.open(d, row.id, row.data), self._today())

    def _available(self, tx: Tx, wf: CompiledWorkflow, row: CaseRow, actor: Actor) -> list[str]:
        now = self.clock.now()
        ctx = self._context(tx, row, "", row.state, None, {}, actor, now)
        found = wf.available(row.state, ctx)
        return self.sign_off.available(tx, wf.definition, row, ctx.data, actor, found)

    def _plain_data(self, tx: Tx, row: CaseRow) -> dict[str, Any]:
        """A copy of the case's data for its handlers, confidential values opened."""
        data: dict[str, Any] = copy_data(row.data)
        d = self.catalog.compiled(tx, row.definition_id).definition
        return self.sealer.open(d, row.id, data) if d.confidential else data

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
        *,
        wall: datetime | None = None,
    ) -> Context:
        """``now`` is the logical time handlers see (``ctx.now``: a timer's due time for a
        firing); ``wall`` the real moment, when it differs."""
        return Context(
            case_id=row.id,
            workflow=row.workflow,
            trigger=trigger,
            source=source or "",
            dest=dest,
            data=self._plain_data(tx, row),
            payload=payload,
            actor=actor,
            now=now,
            subject=row.subject,
            ops=TxOps(
                tx,
                actor,
                now,
                self._create,
                self.scope,
                row.jurisdiction,
                self.open_case_for,
                keys=self.keys,
                wall=wall,
            ),
            reference=self.reference,
        )
