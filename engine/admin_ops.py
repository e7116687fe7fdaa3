"""Case administration (admin only, each with a reason, each a history row naming the actor):
``qingliu case correct|cancel|reopen|reassign`` and ``POST /api/v1/cases/{id}/admin/...``.

* ``corrected``: one data field set to a value, checked against the data schema; fields that
  handlers own (``readOnly``) may be corrected too (the reason says why); confidential fields
  are sealed as in any write; timers dated by the field follow it. The jurisdiction field is
  changed by ``reassign`` only.
* ``cancelled``: the case is closed where it stands (``open: false`` in a state that is not
  final: that is what *cancelled* means), its live timers and deadlines cancelled; it leaves
  the open lists and can be reopened. No final state is needed in the YAML.
* ``reopened``: a cancelled or closed case back to a state of its version that is not final,
  that state's timers armed from now (deadlines are not restarted: a deadline arms the first
  time a case enters its ``starts_in``, as always).
* ``reassigned``: the jurisdiction field and the case's jurisdiction change together; the new
  jurisdiction's scope applies from then on.

Replay accepts each (``engine.history``): only ``reopened`` moves the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.errors import (
    DuplicateOpenCase,
    FieldError,
    InvalidInput,
    Refused,
    StaleVersion,
)
from engine.handlers import Actor
from engine.history import HISTORY_KEY, chain_hash, diff, event_row
from engine.migration_plan import require_admin
from engine.reads import Reads
from engine.store.repository import CaseRow, Tx
from engine.views import CaseView

__all__ = ["ADMIN_KINDS", "CaseAdmin"]

ADMIN_KINDS = frozenset({"corrected", "cancelled", "reopened", "reassigned"})


def _reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise InvalidInput("", [FieldError("$.reason", "an administrative change needs a reason")])
    return reason.strip()


class CaseAdmin(Reads):
    """Mixed into ``Engine``."""

    record_in: Callable[..., CaseView]

    def correct(
        self,
        case_id: int,
        name: str,
        value: Any,
        actor: Actor,
        reason: str | None,
        expected_version: int | None = None,
    ) -> CaseView:
        require_admin(actor)
        why = _reason(reason)
        with self.store.write() as tx:
            row = self._locked(tx, case_id, expected_version)
            wf = self.catalog.compiled(tx, row.definition_id)
            d = wf.definition
            where = f"$.{name}"
            if name == d.jurisdiction_field:
                message = "the jurisdiction changes with reassign, not correct"
                raise InvalidInput("", [FieldError("$.field", message)])
            properties = (
                d.data_schema.get("properties", {}) if isinstance(d.data_schema, dict) else {}
            )
            if name not in properties:
                version = f"{d.name} v{row.workflow_version}"
                message = f"{name!r} is not a field of the data schema of {version}"
                raise InvalidInput("", [FieldError("$.field", message)])
            before = self._plain_data(tx, row)
            after = {**before, name: value}
            errors = wf.data_errors(after)
            if errors:
                raise InvalidInput("data", errors)
            if d.party_fields:
                tx.rename_parties(case_id, self.access.parties_of(d, after))
            payload = {"field": name, "path": where, "reason": why}
            view = self._write(tx, row, "corrected", actor, payload, after)
            notes = self.arming.follow_data(tx, d, case_id, before, after)
            for note in notes:
                view = self.record_in(tx, case_id, note.kind, note.payload, actor)
            return view

    def cancel(
        self, case_id: int, actor: Actor, reason: str | None, expected_version: int | None = None
    ) -> CaseView:
        require_admin(actor)
        why = _reason(reason)
        with self.store.write() as tx:
            row = self._locked(tx, case_id, expected_version)
            if not row.is_open:
                raise Refused(f"case {case_id} is not open: only an open case can be cancelled")
            cancelled = []
            for timer in tx.live_timers(case_id):
                tx.set_timer(timer.id, {"status": "cancelled"})
                cancelled.append(timer.name)
            payload = {"reason": why, "timers_cancelled": cancelled}
            return self._write(tx, row, "cancelled", actor, payload, None, is_open=False)

    def reopen(
        self,
        case_id: int,
        state: str,
        actor: Actor,
        reason: str | None,
        expected_version: int | None = None,
    ) -> CaseView:
        require_admin(actor)
        why = _reason(reason)
        with self.store.write() as tx:
            row = self._locked(tx, case_id, expected_version)
            d = self.catalog.compiled(tx, row.definition_id).definition
            if row.is_open:
                raise Refused(f"case {case_id} is open: only a cancelled or closed case reopens")
            if state not in d.states or d.is_final(state):
                version = f"{d.name} v{row.workflow_version}"
                message = f"{state!r} is not a state of {version} that is not final"
                raise InvalidInput("", [FieldError("$.state", message)])
            if d.one_open_case_per_subject and row.subject is not None:
                other = tx.open_case_for_subject(d.name, row.subject, row.jurisdiction)
                if other is not None:
                    raise DuplicateOpenCase(d.name, row.subject, other)
            now = self.clock.now()
            data = self._plain_data(tx, row)
            rows = self.arming.state_rows(d, case_id, state, data, now, now)
            tx.insert_timers(rows)
            payload = {"reason": why, "timers_armed": [r["name"] for r in rows]}
            return self._write(tx, row, "reopened", actor, payload, None, is_open=True, state=state)

    def reassign(
        self,
        case_id: int,
        jurisdiction: str,
        actor: Actor,
        reason: str | None,
        expected_version: int | None = None,
    ) -> CaseView:
        require_admin(actor)
        why = _reason(reason)
        if not self.scope.knows(jurisdiction):
            message = f"unknown jurisdiction {jurisdiction!r} (config/reference/jurisdictions.yaml)"
            raise InvalidInput("", [FieldError("$.jurisdiction", message)])
        with self.store.write() as tx:
            row = self._locked(tx, case_id, expected_version)
            wf = self.catalog.compiled(tx, row.definition_id)
            d = wf.definition
            if row.jurisdiction == jurisdiction:
                raise Refused(f"case {case_id} is in {jurisdiction} already")
            after = {**self._plain_data(tx, row), d.jurisdiction_field: jurisdiction}
            errors = wf.data_errors(after)
            if errors:
                raise InvalidInput("data", errors)
            if row.is_open and d.one_open_case_per_subject and row.subject is not None:
                other = tx.open_case_for_subject(d.name, row.subject, jurisdiction)
                if other is not None:
                    raise DuplicateOpenCase(d.name, row.subject, other)
            payload = {"reason": why, "from": row.jurisdiction, "to": jurisdiction}
            return self._write(
                tx, row, "reassigned", actor, payload, after, jurisdiction=jurisdiction
            )

    # -- internals ----------------------------------------------------------------------------

    def _locked(self, tx: Tx, case_id: int, expected_version: int | None) -> CaseRow:
        row = self._load(tx, case_id, None, lock=True)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(case_id, expected_version, row.version)
        return row

    def _write(
        self,
        tx: Tx,
        row: CaseRow,
        kind: str,
        actor: Actor,
        payload: dict[str, Any],
        data: dict[str, Any] | None,
        **columns: Any,
    ) -> CaseView:
        """One history row of ``kind``; ``data`` (plain) replaces the case's data (sealed as
        the definition says); ``columns``: ``state``, ``is_open``, ``jurisdiction``."""
        wf = self.catalog.compiled(tx, row.definition_id)
        d = wf.definition
        stored = row.data
        if data is not None:
            stored = self.sealer.seal(d, row.id, data) if d.confidential else data
        now: datetime = self.clock.now()
        event = event_row(row, kind, actor, now, payload, diff(row.data, stored))
        if "state" in columns:
            event.update(from_state=row.state, to_state=columns["state"])
        event["hash"] = chain_hash(row.last_hash, event)
        values = {
            "data": stored,
            "version": event["seq"],
            "last_hash": event["hash"],
            "updated_at": now,
            **columns,
        }
        if not tx.rewrite_case(row.id, row.version, values):
            current = tx.get_case(row.id)
            raise StaleVersion(row.id, row.version, current.version if current else -1)
        tx.append_event(event, self.keys.get(HISTORY_KEY))
        updated = CaseRow(**{**row.__dict__, **values})
        return self.seen_by(tx, wf, updated, None)
