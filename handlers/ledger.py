"""The outfall ledger (动态管理台账): one record per outfall in the engine's ``subjects`` table
(kind ``outfall``, key = the national outfall code, jurisdiction = its county).

Every write is one transaction through ``Engine.transaction``: a new outfall and the
``responsibility`` case it starts (溯源/确定责任主体) commit together or not at all.

    ledger = Ledger(engine)
    ledger.add({"code": "371502-0001", ...}, actor)      # + responsibility case
    ledger.update("371502-0001", {"address": ...}, actor)
    ledger.get("371502-0001", actor)                       # record + every case about it
    ledger.list(actor, county="dongchangfu", status="active")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import (
    ConfigError,
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    WorkflowNotFound,
)
from engine.handlers import Actor, CaseOps
from engine.runtime import Engine
from engine.store.repository import CaseRow, SubjectRow, Tx
from handlers import reference as ref

__all__ = [
    "ENTRY_MODES",
    "FIELDS",
    "InvalidOutfall",
    "KIND",
    "Ledger",
    "OUTFALL_SCHEMA",
    "OutfallExists",
    "OutfallNotFound",
    "OutfallView",
    "RECTIFICATION_MODES",
    "RECTIFICATION_STATUSES",
    "SETUP_BASES",
    "STATUSES",
    "WRITER_ROLES",
    "check_outfall",
    "complete",
    "responsibility_data",
]

KIND = "outfall"
RESPONSIBILITY = "responsibility"

ENTRY_MODES = ("明渠", "管道", "泵站", "涵闸", "箱涵", "其他")
STATUSES = ("active", "abolished", "merged", "cancelled")
RECTIFICATION_STATUSES = ("pending", "in_progress", "done")
SETUP_BASES = ("approval", "registration", "legacy")
RECTIFICATION_MODES = ("ban", "merge", "regularise")
# Roles that may add or change ledger records (within their jurisdiction).
WRITER_ROLES = frozenset({ADMIN, SYSTEM, "eeb_city", "eeb_province", "county_eeb", "county_gov"})

CODE_PATTERN = "^[0-9A-Z][0-9A-Z-]{5,39}$"  # national code: digits, capitals, hyphens
LOCAL_CODE_PATTERN = "^[0-9A-Za-z][0-9A-Za-z_-]{0,39}$"

_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
OUTFALL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "local_code": {"type": "string", "pattern": LOCAL_CODE_PATTERN},
        "name": _TEXT,
        "sub_type": {"type": "string", "minLength": 1},
        "county": {"type": "string", "minLength": 1},
        "address": {"type": "string", "maxLength": 300},
        # WGS 84 degrees, within China's extent
        "longitude": {"type": "number", "minimum": 73.4, "maximum": 135.1},
        "latitude": {"type": "number", "minimum": 3.8, "maximum": 53.6},
        "river": {"type": "string", "minLength": 1},
        "basin": {"type": "string", "minLength": 1},
        "entry_mode": {"enum": list(ENTRY_MODES)},
        "responsible_party": {"type": "string", "maxLength": 200},
        "responsible_fallback": {"type": "boolean"},
        "status": {"enum": list(STATUSES)},
        "rectification_status": {"enum": list(RECTIFICATION_STATUSES)},
        "setup_basis": {"enum": list(SETUP_BASES)},
        "setup_decision": {"type": "string", "maxLength": 100},  # decision or registration no.
        "found_at": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        # written by rectification on de-listing (销号)
        "rectification_mode": {"enum": list(RECTIFICATION_MODES)},
        "merged_into": {"type": "string", "pattern": CODE_PATTERN},
    },
}
FIELDS: tuple[str, ...] = tuple(OUTFALL_SCHEMA["properties"])
REQUIRED = ("code", "name", "sub_type", "county", "river")
DEFAULTS: dict[str, Any] = {
    "status": "active",
    "rectification_status": "pending",
    "responsible_fallback": False,
}
_VALIDATOR = Draft202012Validator(OUTFALL_SCHEMA)


class InvalidOutfall(InvalidInput):
    """A record breaks the ledger's rules; JSON paths point into the record itself."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "The outfall record breaks the ledger's rules"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("", errors)
        self.args = ("invalid outfall: " + "; ".join(str(e) for e in errors),)


class OutfallExists(Conflict):
    status, kind, exit_code = 409, "conflict", 6
    title = "The outfall is in the ledger already"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"outfall {code!r} is already in the ledger")


class OutfallNotFound(NotFound):
    status, kind, exit_code = 404, "not-found", 3
    title = "No such outfall"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"outfall {code!r} not found in the ledger")


def _field_of(error: Any) -> str:
    return str(error.absolute_path[0]) if error.absolute_path else ""


def check_outfall(reference: Mapping[str, Any], record: Mapping[str, Any]) -> list[FieldError]:
    """Every problem of a complete record (JSON paths ``$.field``), reference data included."""
    errors = [FieldError(f"$.{name}", "is required") for name in REQUIRED if name not in record]
    errors += [
        FieldError(f"$.{name}", "is not a ledger field") for name in record if name not in FIELDS
    ]
    known = {k: v for k, v in record.items() if k in FIELDS}
    errors += [FieldError(f"$.{_field_of(e)}", e.message) for e in _VALIDATOR.iter_errors(known)]
    bad = {e.json_path for e in errors}
    errors += _reference_errors(reference, known, bad)
    return sorted(errors, key=_field_order)


def _field_order(error: FieldError) -> int:
    name = error.json_path[2:]
    return FIELDS.index(name) if name in FIELDS else len(FIELDS)


def _reference_errors(
    reference: Mapping[str, Any], record: Mapping[str, Any], bad: set[str]
) -> list[FieldError]:
    usable = {k: v for k, v in record.items() if isinstance(v, str) and f"$.{k}" not in bad}
    errors: list[FieldError] = []
    for check in (_check_sub_type, _check_county, _check_river, _check_found_at):
        errors.extend(check(reference, usable))
    if ("longitude" in record) != ("latitude" in record):
        errors.append(FieldError("$.latitude", "longitude and latitude go together"))
    return errors


def _check_sub_type(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "sub_type" in r and ref.sub_type(reference, r["sub_type"]) is None:
        return [FieldError("$.sub_type", f"unknown outfall sub-type {r['sub_type']!r}")]
    return []


def _check_county(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "county" not in r:
        return []
    unit = ref.jurisdiction(reference, r["county"])
    if unit is None or unit.get("level") not in ref.COUNTY_LEVELS:
        return [FieldError("$.county", f"{r['county']!r} is not a county or zone code")]
    return []


def _check_river(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "river" not in r:
        return []
    river = ref.river(reference, r["river"])
    if river is None:
        return [FieldError("$.river", f"unknown river {r['river']!r}")]
    if "basin" in r and river.get("basin") != r["basin"]:
        return [FieldError("$.basin", f"river {r['river']!r} is in basin {river.get('basin')!r}")]
    return []


def _check_found_at(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "found_at" not in r:
        return []
    try:
        date.fromisoformat(r["found_at"])
    except ValueError:
        return [FieldError("$.found_at", f"{r['found_at']!r} is not a date")]
    return []


def complete(reference: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with defaults and its basin (from the river) filled in."""
    merged = {**DEFAULTS, **record}
    out = {k: merged[k] for k in FIELDS if k in merged}
    out.update({k: v for k, v in merged.items() if k not in FIELDS})
    if "basin" not in out and isinstance(out.get("river"), str):
        basin = ref.basin_of(reference, out["river"])
        if basin is not None:
            out["basin"] = basin
    return out


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

    @property
    def reference(self) -> Mapping[str, Any]:
        return self.engine.reference

    # -- writing ------------------------------------------------------------------------------

    def add(self, record: Mapping[str, Any], actor: Actor) -> OutfallView:
        with self.engine.transaction(_ledger_actor(actor)) as (tx, ops):
            self.add_in(tx, ops, record, actor)
            return self._get_in(tx, str(record["code"]))

    def add_in(self, tx: Tx, ops: CaseOps, record: Mapping[str, Any], actor: Actor) -> int:
        """Add inside an open transaction; returns the responsibility case id."""
        full = self._checked(record, actor)
        code = full["code"]
        if tx.get_subject(KIND, code) is not None:
            raise OutfallExists(code)
        ops.put_subject(KIND, code, full, jurisdiction=full["county"])
        return _open_responsibility(ops, full)

    def update(self, code: str, changes: Mapping[str, Any], actor: Actor) -> OutfallView:
        with self.engine.transaction(_ledger_actor(actor)) as (tx, ops):
            self.update_in(tx, ops, code, changes, actor)
            return self._get_in(tx, code)

    def update_in(
        self, tx: Tx, ops: CaseOps, code: str, changes: Mapping[str, Any], actor: Actor
    ) -> None:
        stored = tx.get_subject(KIND, code)
        if stored is None or not self.engine.scope.covers(actor, stored.get("county")):
            raise OutfallNotFound(code)
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
        ops.put_subject(KIND, code, {**full, **extras}, jurisdiction=full["county"])

    def upsert_in(self, tx: Tx, ops: CaseOps, record: Mapping[str, Any], actor: Actor) -> bool:
        """Add or update (import); True when the outfall is new."""
        code = str(record.get("code", ""))
        if code and tx.get_subject(KIND, code) is not None:
            self.update_in(tx, ops, code, record, actor)
            return False
        self.add_in(tx, ops, record, actor)
        return True

    def _checked(self, record: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        if actor.role not in WRITER_ROLES:
            raise Forbidden(f"role {actor.role!r} may not change the ledger", role=actor.role)
        full = complete(self.reference, record)
        errors = check_outfall(self.reference, full)
        if errors:
            raise InvalidOutfall(errors)
        if not self.engine.scope.covers(actor, full["county"]):
            raise Forbidden(
                f"{actor.name} may not change outfalls in {full['county']}", role=actor.role
            )
        return full

    # -- reading ------------------------------------------------------------------------------

    def get(self, code: str, actor: Actor | None = None) -> OutfallView:
        with self.engine.store.read() as tx:
            view = self._get_in(tx, code)
        if actor is not None and not self.engine.scope.covers(actor, view.record.get("county")):
            raise OutfallNotFound(code)  # another jurisdiction's outfall does not exist for you
        return view

    def _get_in(self, tx: Tx, code: str) -> OutfallView:
        rows = tx.list_subjects(KIND, keys=[code])
        if not rows:
            raise OutfallNotFound(code)
        cases = _cases_about(tx, code)
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

    def count(self, actor: Actor | None = None, **filters: str | None) -> int:
        with self.engine.store.read() as tx:
            return tx.count_subjects(KIND, **self._where(actor, filters))

    def _where(self, actor: Actor | None, filters: Mapping[str, str | None]) -> dict[str, Any]:
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise InvalidInput("filter", [FieldError(f"$.{k}", "unknown filter") for k in unknown])
        fields = {k: v for k, v in filters.items() if v is not None and k != "county"}
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


LIST_FILTERS = ("county", "sub_type", "basin", "status", "river")


def _cases_about(tx: Tx, code: str) -> list[CaseRow]:
    out: list[CaseRow] = []
    after = 0
    while True:
        batch = tx.list_cases(subject=code, after_id=after, limit=500)
        out.extend(batch)
        if len(batch) < 500:
            return out
        after = batch[-1].id


def _ledger_actor(actor: Actor) -> Actor:
    """Cases the ledger opens by itself are the system's, on behalf of whoever wrote."""
    return Actor(f"ledger:{actor.name}", SYSTEM, None)


def responsibility_data(record: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("county", "sub_type", "river", "basin")
    return {"outfall_code": record["code"], **{k: record[k] for k in keys if k in record}}


def _open_responsibility(ops: CaseOps, record: Mapping[str, Any]) -> int:
    try:
        return ops.open_case(RESPONSIBILITY, responsibility_data(record), subject=record["code"])
    except WorkflowNotFound as exc:
        raise ConfigError(
            "the responsibility workflow is not published; run `qingliu load` first"
        ) from exc
