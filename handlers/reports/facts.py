"""The facts the reports count, as of a moment: the outfalls of the ledger and their cases, and
the stage each outfall has reached then (``stage``).

Stages, in the order a county reports them:

- 未溯源 ``untraced``: no tracing case and nothing in the ledger says who is responsible;
- 溯源中 ``tracing``: its responsibility case (溯源, 三(二)) is open;
- 无需整治 ``not_needed``: traced, and found not to need rectification (no rectification case);
- 保留 ``retained``: on its county's filed list of outfalls to keep (需保留的排污口清单, 三(三)),
  kept as it is (no rectification case);
- 待整治 ``pending``: traced and to be rectified, no rectification case yet;
- 整治中 ``rectifying``: its rectification case is open;
- 已完成 ``done``: de-listed (整治销号).

应整治 (to be rectified) is every outfall but the 无需整治 and 保留 ones: an outfall not yet
traced stays in it, counted as not done, until the tracing decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.errors import Forbidden
from engine.handlers import Actor
from engine.store.repository import CaseRow
from handlers.dates import CST
from handlers.ledger import Ledger, OutfallView
from handlers.reference import data as ref
from handlers.reports.table import read_cases

__all__ = [
    "CLEARED",
    "EXEMPT",
    "STAGES",
    "Facts",
    "closed_by",
    "done_at",
    "found_on",
    "gather",
    "is_new",
    "stage",
]

STAGES = (
    ("untraced", "未溯源"),
    ("tracing", "溯源中"),
    ("not_needed", "无需整治"),
    ("retained", "保留"),
    ("pending", "待整治"),
    ("rectifying", "整治中"),
    ("done", "已完成"),
)
EXEMPT = ("not_needed", "retained")  # not counted in 应整治
CLEARED = ("done", *EXEMPT)  # a new outfall in one of these is cleared (已清零)
CLOSED_STATUSES = ("abolished", "merged", "cancelled")
WORKFLOWS = ("responsibility", "rectification", "escalation", "retained_list")


def _cst_date(moment: datetime) -> date:
    return moment.astimezone(CST).date()


@dataclass
class Facts:
    outfalls: list[OutfallView]
    cases: dict[str, list[CaseRow]]  # workflow -> cases created by the cut-off
    by_subject: dict[tuple[str, str], list[CaseRow]]
    at: datetime
    ever: set[tuple[str, str]] = field(default_factory=set)  # (workflow, subject), any time
    retained: set[str] = field(default_factory=set)  # on a filed retained list by the cut-off

    def about(self, workflow: str, code: str) -> list[CaseRow]:
        return self.by_subject.get((workflow, code), [])


def closed_by(case: CaseRow, at: datetime) -> bool:
    """A closed case's last change is its closing (final states take no more events)."""
    return not case.is_open and case.updated_at < at


def _retained(lists: list[CaseRow], at: datetime) -> set[str]:
    """The outfalls kept by the retained lists filed (备案) by ``at``, each county's lists
    applied in the order they were filed (a later list removes what it removes)."""
    kept: set[str] = set()
    filed = sorted((c for c in lists if closed_by(c, at)), key=lambda c: c.updated_at)
    for case in filed:
        kept |= {str(c) for c in case.data.get("outfalls") or []}
        kept -= {str(c) for c in case.data.get("removed") or []}
    return kept


def gather(ledger: Ledger, actor: Actor | None, at: datetime) -> Facts:
    if actor is not None and ledger.engine.access.is_party(actor):
        raise Forbidden(
            f"reports are for government roles (your role: {actor.role})", role=actor.role
        )
    outfalls = [v for v in ledger.list(actor) if datetime.fromisoformat(v.created_at) < at]
    cases: dict[str, list[CaseRow]] = {}
    by_subject: dict[tuple[str, str], list[CaseRow]] = {}
    ever: set[tuple[str, str]] = set()
    for workflow in WORKFLOWS:
        every = read_cases(ledger, actor, workflow)
        ever |= {(workflow, c.subject or "") for c in every}
        cases[workflow] = [c for c in every if c.created_at < at]
        for c in cases[workflow]:
            by_subject.setdefault((workflow, c.subject or ""), []).append(c)
    retained = _retained(cases["retained_list"], at)
    return Facts(outfalls, cases, by_subject, at, ever, retained)


def done_at(facts: Facts, outfall: OutfallView) -> datetime | None:
    """When the outfall's rectification was finished (de-listed), if by the cut-off."""
    closed = [c for c in facts.about("rectification", outfall.code) if closed_by(c, facts.at)]
    if closed:
        return max(c.updated_at for c in closed)
    record = outfall.record
    recorded_done = (
        record.get("rectification_status") == "done" or record.get("status") in CLOSED_STATUSES
    )
    if recorded_done and ("rectification", outfall.code) not in facts.ever:
        # recorded as done without a case (e.g. imported): done since it entered the ledger
        return datetime.fromisoformat(outfall.created_at)
    return None


def _traced(facts: Facts, outfall: OutfallView) -> bool | None:
    """After tracing (as of the cut-off): True when the outfall needs rectification, False when
    it does not, None when it has not been traced. An outfall recorded without a tracing case
    (e.g. imported) is as its ledger record says."""
    closed = [c for c in facts.about("responsibility", outfall.code) if closed_by(c, facts.at)]
    if closed:
        return bool(max(closed, key=lambda c: c.updated_at).data.get("needs_rectification"))
    if ("responsibility", outfall.code) in facts.ever:
        return None  # its tracing was not finished by the cut-off
    record = outfall.record
    if record.get("rectification_status") == "not_needed":
        return False
    return True if record.get("responsible_party") else None


def stage(facts: Facts, outfall: OutfallView) -> str:
    """The outfall's stage as of the cut-off (the module docstring lists them)."""
    if done_at(facts, outfall) is not None:
        return "done"
    if any(not closed_by(c, facts.at) for c in facts.about("rectification", outfall.code)):
        return "rectifying"
    if any(not closed_by(c, facts.at) for c in facts.about("responsibility", outfall.code)):
        return "tracing"
    needs = _traced(facts, outfall)
    if outfall.code in facts.retained and needs is not True:
        return "retained"  # kept as it is (三(三))
    if needs is False:
        return "not_needed"
    return "pending" if needs else "untraced"


def found_on(outfall: OutfallView) -> str:
    """The day the outfall was found (``found_at``), else the day it entered the ledger."""
    record = outfall.record
    found = record.get("found_at") or record.get("recorded_on")
    return (
        str(found) if found else _cst_date(datetime.fromisoformat(outfall.created_at)).isoformat()
    )


def is_new(reference: Mapping[str, Any], outfall: OutfallView) -> bool:
    """新增排污口: found after the campaign deadline of its basin (``ref.is_new_outfall``)."""
    basin = outfall.record.get("basin")
    return ref.is_new_outfall(reference, str(basin) if basin else None, found_on(outfall))
