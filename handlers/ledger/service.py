"""The outfall ledger's operations (动态管理台账): add, change, read and list records, each
write one transaction through ``Engine.transaction``: a new outfall and the ``responsibility``
case it starts (溯源/确定责任主体) commit together or not at all. Every read and write asks the
engine's jurisdiction scope (``engine.scope``). Every change to a record is also a row of the
outfall's history (``Ledger.history``), in the engine's keyed global chain (``engine.audit``).

    ledger = Ledger(engine)
    ledger.add({"code": "371502-0001", ...}, actor)      # + responsibility case
    ledger.update("371502-0001", {"address": ...}, actor)
    ledger.get("371502-0001", actor)                       # record + every case about it
    ledger.history("371502-0001", actor)                   # every change to the record
    ledger.list(actor, county="dongchangfu", status="active")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.definition.model import SYSTEM
from engine.errors import ConfigError, FieldError, Forbidden, InvalidInput, WorkflowNotFound
from engine.handlers import Actor, CaseOps
from engine.runtime import Engine
from engine.store.repository import CaseRow, SubjectEventRow, SubjectRow, Tx
from handlers.dates import local_day
from handlers.ledger.record import (
    FIELDS,
    KIND,
    LIST_FILTERS,
    WRITER_ROLES,
    InvalidOutfall,
    OutfallExists,
    OutfallNotFound,
    check_outfall,
    complete,
    responsibility_data,
)
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = [
    "Ledger",
    "OutfallView",
    "change_json",
    "ledger_actor",
    "open_responsibility",
    "record_setup_in",
]

RESPONSIBILITY = "responsibility"


@dataclass(frozen=True)
class OutfallView:
    """A ledger record and every case about it (cases whose subject is the outfall code)."""

    record: dict[str, Any]
    created_at: str
    updated_at: str
    cases: list[CaseRow] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.record["code"])

    def to_json(self, titles: Mapping[tuple[str, str], str] | None = None) -> dict[str, Any]:
        return {
            **self.record,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "cases": [_case_link(c, titles or {}) for c in self.cases],
        }


def _case_link(case: CaseRow, titles: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    return {
        "id": case.id,
        "workflow": case.workflow,
        "state": case.state,
        "state_title": titles.get((case.workflow, case.state), case.state),
        "open": case.is_open,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "href": f"/api/v1/cases/{case.id}",
    }


def _view(row: SubjectRow, cases: list[CaseRow] | None = None) -> OutfallView:
    return OutfallView(
        dict(row.data), row.created_at.isoformat(), row.updated_at.isoformat(), cases or []
    )


class Ledger:
    """The ledger's operations; each write runs in one engine transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer_roles: frozenset[str] | None = None

    @property
    def reference(self) -> Mapping[str, Any]:
        return self.engine.reference

    # -- writing ------------------------------------------------------------------------------

    def add(self, record: Mapping[str, Any], actor: Actor) -> OutfallView:
        with self.engine.transaction(ledger_actor(actor)) as (tx, ops):
            self.add_in(tx, ops, record, actor)
            return self._get_in(tx, str(record["code"]))

    def add_in(self, tx: Tx, ops: CaseOps, record: Mapping[str, Any], actor: Actor) -> int:
        """Add inside an open transaction; returns the responsibility case id."""
        full = self.new_record(record, actor)
        code = full["code"]
        if tx.get_subject(KIND, code) is not None:
            raise OutfallExists(code)
        ops.put_subject(KIND, code, full, jurisdiction=full["county"], by=actor)
        return open_responsibility(ops, full)

    def new_record(self, record: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """The record as a new outfall is stored, checked (InvalidOutfall, Forbidden) without
        reading or writing the store: a bulk import checks every row first."""
        full = self._checked(record, actor)
        # the day it entered the ledger: its found day when found_at is not given (新增排污口)
        full.setdefault("recorded_on", local_day(self.engine.clock.now()).isoformat())
        return full

    def update(self, code: str, changes: Mapping[str, Any], actor: Actor) -> OutfallView:
        with self.engine.transaction(ledger_actor(actor)) as (tx, ops):
            self.update_in(tx, ops, code, changes, actor)
            return self._get_in(tx, code)

    def update_in(
        self, tx: Tx, ops: CaseOps, code: str, changes: Mapping[str, Any], actor: Actor
    ) -> None:
        stored = tx.get_subject(KIND, code)
        if stored is None or not self.engine.scope.covers(actor, stored.get("county")):
            raise OutfallNotFound(code)
        self._own_sector(actor, str(stored.get("sub_type", "")))
        if "code" in changes and changes["code"] != code:
            raise InvalidOutfall([FieldError("$.code", "the code cannot change")])
        unknown = [
            FieldError(f"$.{k}", "is not a ledger field") for k in changes if k not in FIELDS
        ]
        if unknown:
            raise InvalidOutfall(unknown)
        merged = {**stored, **changes}
        if "river" in changes and "basin" not in changes:
            merged.pop("basin", None)  # follows the new river
        extras = {k: v for k, v in merged.items() if k not in FIELDS}
        full = self._checked({k: v for k, v in merged.items() if k in FIELDS}, actor)
        ops.put_subject(KIND, code, {**full, **extras}, jurisdiction=full["county"], by=actor)

    def upsert_in(self, tx: Tx, ops: CaseOps, record: Mapping[str, Any], actor: Actor) -> bool:
        """Add or update (import); True when the outfall is new."""
        code = str(record.get("code", ""))
        if code and tx.get_subject(KIND, code) is not None:
            self.update_in(tx, ops, code, record, actor)
            return False
        self.add_in(tx, ops, record, actor)
        return True

    def _checked(self, record: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        if actor.role not in self._writers():
            raise Forbidden(f"role {actor.role!r} may not change the ledger", role=actor.role)
        full = complete(self.reference, record)
        errors = check_outfall(self.reference, full)
        if errors:
            raise InvalidOutfall(errors)
        self._own_sector(actor, str(full["sub_type"]))
        if not self.engine.scope.covers(actor, full["county"]):
            raise Forbidden(
                f"{actor.name} may not change outfalls in {full['county']}", role=actor.role
            )
        return full

    def _writers(self) -> frozenset[str]:
        """The roles that write the ledger (the reference data's, read once: an import asks
        for every row)."""
        if self._writer_roles is None:
            self._writer_roles = WRITER_ROLES | sectors.sector_roles(self.reference)
        return self._writer_roles

    def _own_sector(self, actor: Actor, sub_type: str) -> None:
        """A sector department (四(二)) records and changes the outfalls of its own sector."""
        if actor.role not in self._writers():
            raise Forbidden(f"role {actor.role!r} may not change the ledger", role=actor.role)
        if sectors.role_may_act(self.reference, actor.role, sub_type):
            return
        own = "、".join(
            str((ref.sub_type(self.reference, s) or {}).get("name", s))
            for s in sectors.sectors_of_role(self.reference, actor.role)
        )
        kind = (ref.sub_type(self.reference, sub_type) or {}).get("name", sub_type)
        raise Forbidden(
            f"{actor.name} supervises {own or 'no outfall type'} (四(二)), not {kind}",
            role=actor.role,
        )

    # -- reading ------------------------------------------------------------------------------

    def get(self, code: str, actor: Actor | None = None) -> OutfallView:
        """The record and the cases about it that ``actor`` may read; an outfall it may not
        read (another jurisdiction's; for a party, one that does not name it responsible)
        does not exist for it."""
        with self.engine.store.read() as tx:
            view = self._get_in(tx, code, actor)
        if not self.may_read(actor, view.record):
            raise OutfallNotFound(code)
        return view

    def history(self, code: str, actor: Actor | None = None) -> list[SubjectEventRow]:
        """Every change to the outfall's record, oldest first; read as the record is."""
        with self.engine.store.read() as tx:
            rows = tx.list_subjects(KIND, keys=[code])
            if not rows or not self.may_read(actor, rows[0].data):
                raise OutfallNotFound(code)
            return tx.subject_events(KIND, code)

    def may_read(self, actor: Actor | None, record: Mapping[str, Any]) -> bool:
        if actor is None:
            return True
        if not self.engine.scope.covers(actor, record.get("county")):
            return False
        party = self.engine.access.is_party(actor)
        return not party or record.get("responsible_party") == actor.name

    def _get_in(self, tx: Tx, code: str, actor: Actor | None = None) -> OutfallView:
        rows = tx.list_subjects(KIND, keys=[code])
        if not rows:
            raise OutfallNotFound(code)
        cases = [c for c in _cases_about(tx, code) if self.engine.may_read(tx, c, actor)]
        return _view(rows[0], cases)

    def list(
        self,
        actor: Actor | None = None,
        *,
        after: str | None = None,
        limit: int | None = None,
        **filters: str | None,
    ) -> list[OutfallView]:
        """Records in code order; filters: county, sub_type, basin, status, river."""
        with self.engine.store.read() as tx:
            rows = tx.list_subjects(
                KIND, **self._where(actor, filters), after_key=after, limit=limit
            )
        return [_view(r) for r in rows]

    def iterate(
        self, actor: Actor | None = None, *, page: int = 1000, **filters: str | None
    ) -> Iterator[OutfallView]:
        """``list``'s records one page of ``page`` at a time (by code, after the last one
        read), so an export holds one page in memory however big the ledger is."""
        after: str | None = None
        while True:
            views = self.list(actor, after=after, limit=page, **filters)
            yield from views
            if len(views) < page:
                return
            after = views[-1].code
            del views  # one page held at a time, not two

    def count(self, actor: Actor | None = None, **filters: str | None) -> int:
        with self.engine.store.read() as tx:
            return tx.count_subjects(KIND, **self._where(actor, filters))

    def _where(self, actor: Actor | None, filters: Mapping[str, str | None]) -> dict[str, Any]:
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise InvalidInput("filter", [FieldError(f"$.{k}", "unknown filter") for k in unknown])
        fields = {k: v for k, v in filters.items() if v is not None and k != "county"}
        if actor is not None and self.engine.access.is_party(actor):
            fields["responsible_party"] = actor.name  # a party reads the outfalls it answers for
        jurisdictions = self.engine.scope.narrow(actor, filters.get("county"))
        return {"jurisdictions": jurisdictions, "fields": fields}

    def state_titles(self) -> dict[tuple[str, str], str]:
        """(workflow, state) → state title, over the latest published definitions."""
        titles: dict[tuple[str, str], str] = {}
        for row in self.engine.definitions():
            _, definition = self.engine.definition(row.name)
            for name, state in definition.states.items():
                titles[(row.name, name)] = state.title
        return titles


def _cases_about(tx: Tx, code: str) -> list[CaseRow]:
    out: list[CaseRow] = []
    after = 0
    while True:
        batch = tx.list_cases(subject=code, after_id=after, limit=500)
        out.extend(batch)
        if len(batch) < 500:
            return out
        after = batch[-1].id


def change_json(row: SubjectEventRow) -> dict[str, Any]:
    """One change of an outfall's history as the API and the CLI show it."""
    return {
        "seq": row.seq,
        "change": row.change,
        "actor": row.actor,
        "role": row.role,
        "jurisdiction": row.jurisdiction,
        "patch": row.patch,
        "at": row.at.isoformat(),
        "gseq": row.gseq,
    }


def ledger_actor(actor: Actor) -> Actor:
    """Cases the ledger opens by itself are the system's, on behalf of whoever wrote."""
    return Actor(f"ledger:{actor.name}", SYSTEM, None)


def open_responsibility(ops: CaseOps, record: Mapping[str, Any]) -> int:
    """Open the responsibility case (溯源) a new outfall starts."""
    try:
        return ops.open_case(RESPONSIBILITY, responsibility_data(record), subject=record["code"])
    except WorkflowNotFound as exc:
        raise ConfigError(
            "the responsibility workflow is not published; run `qingliu load` first"
        ) from exc


def record_setup_in(
    ops: CaseOps,
    reference: Mapping[str, Any],
    code: str,
    changes: Mapping[str, Any],
    *,
    new: bool,
) -> dict[str, Any]:
    """Write what an approval (审批) or registration (登记) set up, inside the deciding case's
    transaction: a ``new`` outfall enters the ledger with ``changes`` as its record; a change,
    enlargement or retroactive permit updates the outfall's entry. The record is checked as
    the ledger checks every record (InvalidOutfall with JSON paths into it); the write is a row
    of the outfall's history, by the deciding official. OutfallExists / OutfallNotFound when
    the ledger does not (or no longer) match the kind of the application."""
    stored = ops.get_subject(KIND, code)
    if new and stored is not None:
        raise OutfallExists(code)
    if not new and stored is None:
        raise OutfallNotFound(code)
    merged = {**(stored or {}), **changes, "code": code}
    if stored is not None and "river" in changes and "basin" not in changes:
        merged.pop("basin", None)  # follows the new river
    fields = {k: v for k, v in merged.items() if k in FIELDS}
    extras = {k: v for k, v in merged.items() if k not in FIELDS}
    full = complete(reference, fields)
    errors = check_outfall(reference, full)
    if errors:
        raise InvalidOutfall(errors)
    record = {**full, **extras}
    ops.put_subject(KIND, code, record, jurisdiction=full["county"])
    return record
