"""The case templates of the province generator (``bench/province.py``): the demo city's real
histories, taken apart into pieces that can be stamped out at any case id, county and outfall.

``handlers.demo`` drives the seventeen Liaocheng flows through ``Engine.fire`` on a simulated
clock; every case it leaves (with its history rows, timers and parties) and every outfall record
(with its ledger history) is read back here through the store, and each text the chains and the
database hold - a row's JSON, its subject, the canonical body its per-case hash covers
(``engine/store/_chain.py``) - is split at the values a copy changes: the case id, the county's
code, the city's code (``liaocheng``) and the outfall's national code. A copy is the same
history with those values replaced, so its transitions, payloads and data are the ones the
definitions accepted, its data passes the data schema, and its hashes are recomputed over
exactly the text the audit recomputes (``tests/bench/test_province.py`` checks both against
the engine's own functions).

Cases of definitions with confidential fields (sealed values are bound to their case id) are
left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine.runtime import Engine
from engine.store._chain import _HASHED_BODY, _SUBJECT_HASHED, HASHED
from engine.store.tables import case_parties, cases, events, subject_events, subjects, timers

__all__ = [
    "CITY",
    "CaseTemplate",
    "OutfallTemplate",
    "Pieces",
    "Templates",
    "dbtime",
    "read_templates",
    "render",
]

CITY = "liaocheng"
SENTINEL = 987654321987  # stands for the case id while a template is made
_STORE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
# A template text: literals and token names alternating, the literal first ("" if none).
Pieces = tuple[str, ...]


def _tokens(text: str, values: Mapping[str, str]) -> Pieces:
    """``text`` split at each value of ``values`` (name -> text; county and city codes only
    as whole words), as alternating literals and names."""
    parts = []
    for name, value in values.items():
        if not value:
            continue
        escaped = re.escape(value)
        if name in ("J", "Y"):
            escaped = rf"(?<![a-z0-9_]){escaped}(?![a-z0-9_])"
        parts.append(f"(?P<{name}>{escaped})")
    if not parts:
        return (text,)
    out: list[str] = []
    last = 0
    for m in re.finditer("|".join(parts), text):
        out.append(text[last : m.start()])
        out.append(str(m.lastgroup))
        last = m.end()
    out.append(text[last:])
    return tuple(out)


def render(pieces: Pieces, values: Mapping[str, str]) -> str:
    if len(pieces) == 1:
        return pieces[0]
    return "".join(values[p] if i % 2 else p for i, p in enumerate(pieces))


def dbtime(value: datetime | None) -> str | None:
    """A time as the store keeps it: naive UTC text (``UTCDateTime`` on SQLite)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass
class EventTemplate:
    static: dict[str, Any]  # seq, kind, trigger, transition, from/to state, actor, role, at
    jurisdiction: Pieces
    payload: Pieces
    patch: Pieces
    body: Pieces  # the canonical text its per-case hash covers


@dataclass
class CaseTemplate:
    workflow: str
    definition: tuple[str, int]
    static: dict[str, Any]
    county: str | None  # the Liaocheng county (or zone) it was filed in; None for the city
    outfall: str | None  # the outfall code its subject begins with
    subject: Pieces | None
    jurisdiction: Pieces
    data: Pieces
    events: list[EventTemplate]
    timers: list[dict[str, Any]]
    parties: list[tuple[str, str]]

    @property
    def is_open(self) -> bool:
        return bool(self.static["is_open"])


@dataclass
class OutfallTemplate:
    code: str
    county: str
    data: Pieces
    changes: list[tuple[dict[str, Any], Pieces, Pieces, Pieces]]  # static, juris, patch, body
    cases: list[CaseTemplate] = field(default_factory=list)


@dataclass
class Templates:
    outfalls: list[OutfallTemplate]
    closed: list[CaseTemplate]  # closed outfall cases, to stamp onto any outfall
    county: list[CaseTemplate]  # cases of a county (or the city) not about one outfall
    counties: list[str]


def _values(county: str | None, outfall: str | None, case: bool = True) -> dict[str, str]:
    values = {"J": county or "", "Y": CITY, "O": outfall or ""}
    if case:
        values["C"] = str(SENTINEL)
    return values


def _event(row: Mapping[str, Any], county: str | None, outfall: str | None) -> EventTemplate:
    v = _values(county, outfall)
    content = {name: row[name] for name in HASHED}
    content["case_id"] = SENTINEL
    keep = ("seq", "kind", "trigger", "transition", "from_state", "to_state", "actor", "role")
    static = {k: row[k] for k in keep}
    static["at"], static["due_at"] = dbtime(row["at"]), dbtime(row["due_at"])
    return EventTemplate(
        static,
        _tokens(row["jurisdiction"] or "", v) if row["jurisdiction"] else (),
        _tokens(_STORE_JSON(row["payload"]), v),
        _tokens(_STORE_JSON(row["patch"]), v),
        _tokens(_HASHED_BODY(content), v),
    )


def read_templates(engine: Engine, counties: Sequence[str]) -> Templates:
    """Every case and outfall of the demo city in ``engine``'s store, as templates."""
    with engine.store.read() as tx:
        conn = tx.conn
        sealed = _sealed(engine, tx)
        names = {int(r.id): (str(r.name), int(r.version)) for r in tx.latest_definitions()}
        case_rows = [dict(r._mapping) for r in conn.execute(select(cases).order_by(cases.c.id))]
        by_case: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(events).order_by(events.c.case_id, events.c.seq)):
            by_case.setdefault(int(r.case_id), []).append(dict(r._mapping))
        timer_rows: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(timers).order_by(timers.c.id)):
            timer_rows.setdefault(int(r.case_id), []).append(dict(r._mapping))
        parties: dict[int, list[tuple[str, str]]] = {}
        for r in conn.execute(select(case_parties)):
            parties.setdefault(int(r.case_id), []).append((str(r.party), str(r.relation)))
        outfall_rows = [
            dict(r._mapping)
            for r in conn.execute(select(subjects).where(subjects.c.kind == "outfall"))
        ]
        changes: dict[str, list[dict[str, Any]]] = {}
        query = select(subject_events).where(subject_events.c.subject_kind == "outfall")
        for r in conn.execute(query.order_by(subject_events.c.gseq)):
            changes.setdefault(str(r.subject_key), []).append(dict(r._mapping))
    outfalls = _outfalls(outfall_rows, changes)
    closed, county_cases = _sort(
        case_rows, names, by_case, timer_rows, parties, outfalls, counties, sealed
    )
    return Templates(list(outfalls.values()), closed, county_cases, list(counties))


def _sort(
    case_rows: Sequence[Mapping[str, Any]],
    names: Mapping[int, tuple[str, int]],
    by_case: Mapping[int, list[dict[str, Any]]],
    timer_rows: Mapping[int, list[dict[str, Any]]],
    parties: Mapping[int, list[tuple[str, str]]],
    outfalls: Mapping[str, OutfallTemplate],
    counties: Sequence[str],
    sealed: set[int],
) -> tuple[list[CaseTemplate], list[CaseTemplate]]:
    """Each case as a template: onto its outfall's; the closed ones of outfalls, and the
    county's and city's cases not about one outfall."""
    closed: list[CaseTemplate] = []
    county_cases: list[CaseTemplate] = []
    for row in case_rows:
        if int(row["definition_id"]) in sealed or int(row["id"]) not in by_case:
            continue
        subject = row["subject"]
        outfall = next((c for c in outfalls if subject and subject.startswith(c)), None)
        jur = row["jurisdiction"]
        county = jur if jur in counties else None
        if outfall is not None:
            county = outfalls[outfall].county
        template = _case(row, names, by_case, timer_rows, parties, county, outfall)
        if outfall is not None:
            outfalls[outfall].cases.append(template)
            if not template.is_open:
                closed.append(template)
        elif county is not None or jur == CITY:
            county_cases.append(template)
    return closed, county_cases


def _sealed(engine: Engine, tx: Any) -> set[int]:
    """The definitions with confidential fields (their values are sealed to the case id)."""
    return {
        int(r.id)
        for r in tx.latest_definitions()
        if engine.catalog.compiled(tx, r.id).definition.confidential
    }


def _outfalls(
    rows: Sequence[Mapping[str, Any]], changes: Mapping[str, list[dict[str, Any]]]
) -> dict[str, OutfallTemplate]:
    outfalls = {}
    for row in rows:
        code, county = str(row["key"]), str(row["jurisdiction"])
        v = _values(county, code, case=False)
        stamped = []
        for c in changes.get(code, []):
            body = _HASHED_BODY({name: c[name] for name in _SUBJECT_HASHED})
            static = {k: c[k] for k in ("seq", "change", "actor", "role")}
            static["at"] = dbtime(c["at"])
            juris = _tokens(c["jurisdiction"] or "", v) if c["jurisdiction"] else ()
            patch = _tokens(_STORE_JSON(c["patch"]), v)
            stamped.append((static, juris, patch, _tokens(body, v)))
        data = _tokens(_STORE_JSON(row["data"]), v)
        outfalls[code] = OutfallTemplate(code, county, data, stamped)
    return outfalls


def _case(
    row: Mapping[str, Any],
    names: Mapping[int, tuple[str, int]],
    by_case: Mapping[int, list[dict[str, Any]]],
    timer_rows: Mapping[int, list[dict[str, Any]]],
    parties: Mapping[int, list[tuple[str, str]]],
    county: str | None,
    outfall: str | None,
) -> CaseTemplate:
    v = _values(county, outfall)
    static = {
        k: row[k] for k in ("workflow_version", "state", "version", "is_open", "subject_unique")
    }
    static["created_at"] = dbtime(row["created_at"])
    static["updated_at"] = dbtime(row["updated_at"])
    case_timers = []
    for t in timer_rows.get(int(row["id"]), []):
        t = dict(t)
        t.pop("id"), t.pop("case_id")
        for k in ("due_at", "created_at", "fired_at", "base_at"):
            t[k] = dbtime(t[k])
        t["payload"] = _tokens(_STORE_JSON(t["payload"]), v)
        case_timers.append(t)
    return CaseTemplate(
        workflow=str(row["workflow"]),
        definition=names[int(row["definition_id"])],
        static=static,
        county=county,
        outfall=outfall,
        subject=_tokens(row["subject"], v) if row["subject"] else None,
        jurisdiction=_tokens(row["jurisdiction"] or "", v),
        data=_tokens(_STORE_JSON(row["data"]), v),
        events=[_event(e, county, outfall) for e in by_case[int(row["id"])]],
        timers=case_timers,
        parties=list(parties.get(int(row["id"]), [])),
    )
