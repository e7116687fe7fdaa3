"""Migrating running cases to another version of their workflow (``qingliu migrate``,
``POST /api/v1/workflows/{name}/migrations``); admin only.

For each open case on another version (``from_version``: only those on it; ``case_ids``: only
those) the plan says:

* the state it maps to: its own name, or ``mapping[state]``; a state the new version does not
  have and no mapping is *unmappable*;
* the data fields that fail the new data schema (JSON paths): such a case is unmappable too;
* what becomes of each live timer. A deadline that exists in both versions keeps its row as it
  is: its start, the time it spent paused and whether it is paused now (cancelled if the new
  state ends it). A state timer whose definition is the same in the new version keeps its due
  time; one whose definition changed is re-armed per the new definition from the moment the
  case entered its state; a timer of a state or name that is gone is cancelled; a timer the new
  version adds to the state is armed from that moment. A deadline the new version adds starts
  the next time the case enters one of its ``starts_in`` states, as any deadline does.

A dry run only plans. A real run refuses everything (``MigrationRefused``, 409, listing each
unmappable case) when any case is unmappable; otherwise it moves each case in its own
transaction (planned again there, on the locked row) with a ``migrated`` history row naming
both versions, the state map, the actor, the reason and the timer changes. ``engine.history``
replays a case across its ``migrated`` rows with the version it was on before each event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.definition.model import Definition
from engine.errors import FieldError, InvalidInput, StaleVersion
from engine.handlers import Actor
from engine.history import HISTORY_KEY, MIGRATED, chain_hash, diff, event_row
from engine.migration_plan import (
    CasePlan,
    MigrationRefused,
    MigrationReport,
    TimerChange,
    entered_at,
    require_admin,
)
from engine.reads import Reads
from engine.store.repository import CaseRow, TimerRow, Tx
from engine.time.arming import Arming

__all__ = ["Migrations"]


class _Planner:
    def __init__(self, arming: Arming, now: datetime) -> None:
        self.arming, self.now = arming, now

    def plan(
        self,
        row: CaseRow,
        old: Definition,
        new: Definition,
        to_version: int,
        mapping: Mapping[str, str],
        data: dict[str, Any],
        errors: list[FieldError],
        live: list[TimerRow],
        entered: datetime,
    ) -> CasePlan:
        dest = mapping.get(row.state, row.state)
        plan = CasePlan(row.id, row.workflow_version, to_version, row.state, dest)
        if dest not in new.states:
            plan.to_state = None
            plan.reasons.append(
                f"state {row.state!r} is not in v{to_version}: map it (--map {row.state}=STATE)"
            )
        plan.data_errors = errors
        if errors:
            paths = ", ".join(e.json_path for e in plan.data_errors)
            plan.reasons.append(f"its data fails the data schema of v{to_version} at {paths}")
        if plan.refused:
            return plan
        for timer in live:
            if timer.deadline is not None:
                self._deadline(plan, timer, new, dest)
            elif timer.state is not None:
                self._timer(plan, timer, old, new, dest, data, entered)
        known = {spec.name for spec in old.timers.get(row.state, ())}
        for rearm in self.arming.state_rows(new, row.id, dest, data, entered, self.now):
            if rearm["name"] not in known:
                plan.insert.append(rearm)
                plan.timers.append(
                    TimerChange(rearm["name"], False, "armed", None, rearm["due_at"])
                )
        return plan

    @staticmethod
    def _deadline(plan: CasePlan, timer: TimerRow, new: Definition, dest: str) -> None:
        spec = next((d for d in new.deadlines if d.name == timer.deadline), None)
        paused = timer.status == "paused"
        if spec is None or dest in spec.runs_until:
            plan.cancel.append(timer.id)
            plan.timers.append(TimerChange(timer.name, True, "cancelled", timer.due_at, None))
            return
        values = {"trigger": spec.fires, "payload": dict(spec.payload), "catch_up": spec.catch_up}
        plan.update.append((timer.id, values))
        change = TimerChange(timer.name, True, "kept", timer.due_at, timer.due_at, paused)
        plan.timers.append(change)

    def _timer(
        self,
        plan: CasePlan,
        timer: TimerRow,
        old: Definition,
        new: Definition,
        dest: str,
        data: Mapping[str, Any],
        entered: datetime,
    ) -> None:
        before = next(
            (s for s in old.timers.get(plan.from_state, ()) if s.name == timer.name), None
        )
        after = next((s for s in new.timers.get(dest, ()) if s.name == timer.name), None)
        if after is None:
            plan.cancel.append(timer.id)
            plan.timers.append(TimerChange(timer.name, False, "cancelled", timer.due_at, None))
            return
        if before is not None and dataclasses.replace(before, state=dest) == after:
            plan.update.append((timer.id, {"state": dest}))
            change = TimerChange(timer.name, False, "kept", timer.due_at, timer.due_at)
            plan.timers.append(change)
            return
        rows = self.arming.state_rows(new, plan.case_id, dest, data, entered, self.now)
        rearm = next((r for r in rows if r["name"] == timer.name), None)
        plan.cancel.append(timer.id)
        if rearm is None:  # dated by a data field that is empty
            plan.timers.append(TimerChange(timer.name, False, "cancelled", timer.due_at, None))
            return
        plan.insert.append(rearm)
        plan.timers.append(TimerChange(timer.name, False, "rearmed", timer.due_at, rearm["due_at"]))


class Migrations(Reads):
    """Mixed into ``Engine``: ``migrate``."""

    def migrate(
        self,
        workflow: str,
        to_version: int,
        actor: Actor,
        *,
        from_version: int | None = None,
        mapping: Mapping[str, str] | None = None,
        case_ids: Sequence[int] | None = None,
        dry_run: bool = False,
        reason: str | None = None,
    ) -> MigrationReport:
        require_admin(actor)
        mapping = dict(mapping or {})
        with self.store.read() as tx:
            target, _ = self.catalog.latest_row(tx, workflow, to_version)
            if from_version is not None:
                self.catalog.latest_row(tx, workflow, from_version)
            _check_mapping(mapping, self.catalog.compiled(tx, target.id).definition, to_version)
            rows = _selected(tx, workflow, to_version, from_version, case_ids)
            plans = [self._plan(tx, row, target.id, to_version, mapping) for row in rows]
        found = {row.id for row in rows}
        for case_id in case_ids or ():
            if case_id not in found:
                plan = CasePlan(case_id, 0, to_version, "", None)
                which = f"v{from_version}" if from_version is not None else "another version"
                plan.reasons.append(f"not an open case of {workflow!r} on {which}")
                plans.append(plan)
        report = MigrationReport(workflow, to_version, dry_run, plans)
        if dry_run or not plans:
            return report
        if report.refused:
            refused = [
                {"case_id": p.case_id, "state": p.from_state, "reasons": p.reasons}
                for p in report.refused
            ]
            raise MigrationRefused(workflow, to_version, refused)
        for index, plan in enumerate(plans):
            with self.store.write() as tx:  # one transaction per case, planned again in it
                row = self._load(tx, plan.case_id, None, lock=True)
                fresh = self._plan(tx, row, target.id, to_version, mapping)
                if not row.is_open or row.workflow_version == to_version:
                    fresh.reasons.append("it changed while the migration ran")
                report.cases[index] = fresh
                if fresh.refused:  # moved on meanwhile: listed, left as it is
                    continue
                self._apply(tx, row, fresh, target.id, actor, reason, mapping)
                report.migrated.append(row.id)
        return report

    def _plan(
        self, tx: Tx, row: CaseRow, target_id: int, to_version: int, mapping: Mapping[str, str]
    ) -> CasePlan:
        old = self.catalog.compiled(tx, row.definition_id).definition
        new_wf = self.catalog.compiled(tx, target_id)
        data = self._plain_data(tx, row)
        events = tx.events(row.id)

        def definition_of(version: int) -> Definition:
            return self.catalog.latest_row(tx, row.workflow, version)[1].definition

        entered = entered_at(events, row.state, definition_of)
        planner = _Planner(self.arming, self.clock.now())
        errors = new_wf.data_errors(data)
        live = tx.live_timers(row.id)
        new = new_wf.definition
        return planner.plan(row, old, new, to_version, mapping, data, errors, live, entered)

    def _apply(
        self,
        tx: Tx,
        row: CaseRow,
        plan: CasePlan,
        target_id: int,
        actor: Actor,
        reason: str | None,
        mapping: Mapping[str, str],
    ) -> None:
        assert plan.to_state is not None
        old = self.catalog.compiled(tx, row.definition_id).definition
        new = self.catalog.compiled(tx, target_id).definition
        stored = row.data
        if set(old.confidential) != set(new.confidential):
            plain = self.sealer.open(old, row.id, row.data) if old.confidential else row.data
            stored = self.sealer.seal(new, row.id, plain) if new.confidential else plain
        for timer_id in plan.cancel:
            tx.set_timer(timer_id, {"status": "cancelled"})
        for timer_id, values in plan.update:
            tx.set_timer(timer_id, values)
        tx.insert_timers(plan.insert)
        now = self.clock.now()
        payload = {
            "from_version": row.workflow_version,
            "to_version": plan.to_version,
            "state_map": {row.state: plan.to_state},
            "map": dict(mapping),
            "reason": reason,
            "timers": [t.to_json() for t in plan.timers],
        }
        event = event_row(row, MIGRATED, actor, now, payload, diff(row.data, stored))
        event.update(from_state=row.state, to_state=plan.to_state)
        event["hash"] = chain_hash(row.last_hash, event)
        values = {
            "definition_id": target_id,
            "workflow_version": plan.to_version,
            "state": plan.to_state,
            "data": stored,
            "version": event["seq"],
            "is_open": not new.is_final(plan.to_state),
            "last_hash": event["hash"],
            "updated_at": now,
        }
        if not tx.rewrite_case(row.id, row.version, values):
            current = tx.get_case(row.id)
            raise StaleVersion(row.id, row.version, current.version if current else -1)
        tx.append_event(event, self.keys.get(HISTORY_KEY))


def _check_mapping(mapping: Mapping[str, str], new: Definition, to_version: int) -> None:
    errors = [
        FieldError(f"$.map.{old}", f"{dest!r} is not a state of v{to_version}")
        for old, dest in sorted(mapping.items())
        if dest not in new.states
    ]
    if errors:
        raise InvalidInput("", errors)


def _selected(
    tx: Tx,
    workflow: str,
    to_version: int,
    from_version: int | None,
    case_ids: Sequence[int] | None,
) -> list[CaseRow]:
    """The open cases of ``workflow`` to move, in id order."""
    rows: list[CaseRow] = []
    after = 0
    while True:
        page = tx.list_cases(workflow=workflow, is_open=True, after_id=after, limit=500)
        if not page:
            break
        after = page[-1].id
        rows.extend(
            r
            for r in page
            if r.workflow_version != to_version
            and (from_version is None or r.workflow_version == from_version)
            and (case_ids is None or r.id in case_ids)
        )
    return rows
