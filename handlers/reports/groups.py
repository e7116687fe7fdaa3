"""The outfalls counted by the database, for ``report progress`` and ``report deadlines``: the
stage of every outfall (``facts.stage``) worked out from grouped facts about its record and its
cases (``engine.count_subjects``), so that a report reads a few hundred groups, not every
outfall and every case (issue 20: a province's 100,000 outfalls and 1,000,000 cases).

Each ``Group`` is the outfalls that share what the stage, the 新增 test and the deadlines need;
``stage_of`` decides a group's stage as ``facts.stage`` decides an outfall's, fact for fact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.handlers import Actor
from engine.store._aggregates import (
    CreatedBefore,
    Field,
    HasCase,
    InKeys,
    Key,
    LastClosed,
    Later,
    Present,
)
from handlers.ledger import Ledger
from handlers.ledger.service import KIND
from handlers.reference import data as ref
from handlers.reports.facts import CLEARED, CLOSED_STATUSES, EXEMPT, _retained
from handlers.reports.table import cutoff, read_cases, refuse_parties

__all__ = ["Group", "groups"]

_FIELDS = ("county", "sub_type", "basin", "rectification_status", "status")


def _true(value: Any) -> bool:
    """A JSON value as the backends return it as a string (SQLite 1/0, PostgreSQL
    'true'/'false'), as Python's ``bool`` of the decoded value would take it."""
    return value not in (None, 0, "0", "false", "", False, "null")


@dataclass(frozen=True)
class Group:
    count: int
    county: str
    sub_type: str
    basin: str | None
    stage: str
    new: bool
    on_time: tuple[bool, ...]  # per deadline asked: finished by its day (when finished)

    @property
    def finished(self) -> bool:
        return self.stage == "done"

    @property
    def cleared(self) -> bool:
        return self.stage in CLEARED

    @property
    def exempt(self) -> bool:
        return self.stage in EXEMPT


def _deadline_strings(reference: Mapping[str, Any]) -> list[str]:
    table = (reference.get("deadlines") or {}).get("rectification_deadline_by_basin") or {}
    return sorted({str(v) for v in table.values() if v})


def _keys(retained: set[str], at: datetime, campaign: list[str], days: Sequence[date]) -> list[Key]:
    keys: list[Key] = [Field(f) for f in _FIELDS]
    keys += [
        Present("responsible_party"),
        InKeys(frozenset(retained)),
        HasCase("rectification", created_before=at, closed_until=at),
        HasCase("rectification"),
        HasCase("rectification", created_before=at, open_at=at),
        HasCase("responsibility", created_before=at, open_at=at),
        HasCase("responsibility", created_before=at, closed_until=at),
        HasCase("responsibility"),
        LastClosed("responsibility", at, "needs_rectification"),
    ]
    keys += [Later(("found_at", "recorded_on"), d) for d in campaign]
    keys += [CreatedBefore(cutoff(date.fromisoformat(d))) for d in campaign]
    keys += [
        HasCase("rectification", created_before=at, closed_from=cutoff(d), closed_until=at)
        for d in days
    ]
    return keys + [CreatedBefore(cutoff(d)) for d in days]


def _needs(values: Sequence[Any]) -> bool | None:
    """``facts._traced``: does the outfall need rectification (None: not traced)."""
    status_r, present, resp_closed, resp_ever, needs_value = values
    if resp_closed:
        return _true(needs_value)
    if resp_ever:
        return None
    if status_r == "not_needed":
        return False
    return True if present else None


def _stage(values: Sequence[Any]) -> str:
    """``facts.stage``, from the first 14 values of the group key (``_keys``)."""
    _, _, _, status_r, status, present, kept, rect_closed, rect_ever = values[:9]
    rect_open, resp_open, resp_closed, resp_ever, needs_value = values[9:14]
    by_record = (status_r == "done" or status in CLOSED_STATUSES) and not rect_ever
    if rect_closed or by_record:
        return "done"
    if rect_open:
        return "rectifying"
    if resp_open:
        return "tracing"
    needs = _needs((status_r, present, resp_closed, resp_ever, needs_value))
    if kept and needs is not True:
        return "retained"  # kept as it is (三(三))
    if needs is False:
        return "not_needed"
    return "pending" if needs else "untraced"


def groups(
    ledger: Ledger, actor: Actor | None, at: datetime, days: Sequence[date] = ()
) -> list[Group]:
    """The outfalls entered by ``at`` in groups, with their stage as of ``at`` and, for each
    of ``days``, whether a finished one was finished by the end of that day."""
    refuse_parties(ledger, actor)
    reference = ledger.reference
    lists = [c for c in read_cases(ledger, actor, "retained_list") if c.created_at < at]
    campaign = _deadline_strings(reference)
    keys = _keys(_retained(lists, at), at, campaign, days)
    n = len(campaign)
    out = []
    for values, count in ledger.engine.count_subjects(actor, KIND, keys, created_before=at):
        county, sub, basin = values[:3]
        later, before = values[14 : 14 + n], values[14 + n : 14 + 2 * n]
        late_close = values[14 + 2 * n : 14 + 2 * n + len(days)]
        entered = values[14 + 2 * n + len(days) :]
        stage = _stage(values)
        i = campaign.index(ref.rectification_deadline(reference, str(basin) if basin else None))
        new = bool(later[i]) if later[i] is not None else not before[i]
        # finished by its rectification case: when the last one closed; recorded as done:
        # since it entered the ledger
        closed = values[7]
        on_time = tuple(not x for x in late_close) if closed else tuple(map(bool, entered))
        out.append(Group(count, str(county), str(sub), basin, stage, new, on_time))
    return out
