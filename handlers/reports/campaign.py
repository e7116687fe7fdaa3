"""``qingliu report campaign``: the key-river special enforcement campaigns (专项执法检查, plan
三(四)5) per campaign and county, as of the end of a day (China Standard Time): the outfalls in
scope of the county's task, how many were inspected, the findings, the enforcement cases the
findings opened and how many of them are closed, whether the task was submitted and whether it
went overdue. Read from the ``campaign_inspection`` and ``enforcement`` cases the actor reaches
(``read_cases``: the actor's read scope, as ``facts.gather``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.handlers import Actor
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reports.facts import closed_by
from handlers.reports.table import Report, cutoff, read_cases

__all__ = ["campaign"]


def _before(stamp: Any, at: datetime) -> bool:
    return bool(stamp) and datetime.fromisoformat(str(stamp)) < at


COLUMNS = (
    ("campaign", "专项检查"),
    ("county", "县区"),
    ("task_case_id", "任务案件"),
    ("outfalls", "范围内排污口"),
    ("inspected", "已检查"),
    ("findings", "发现问题"),
    ("enforcement_opened", "立案"),
    ("enforcement_closed", "其中已结案"),
    ("submitted", "已报送"),
    ("overdue", "逾期"),
)


def campaign(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    at = cutoff(as_of)
    reference = ledger.reference
    enforcement = {c.id: c for c in read_cases(ledger, actor, "enforcement")}
    order = {code: i for i, code in enumerate(ref.county_codes(reference))}
    tasks = [c for c in read_cases(ledger, actor, "campaign_inspection") if c.created_at < at]
    tasks.sort(key=lambda c: (str(c.data.get("campaign")), order.get(c.data.get("county"), 99)))
    rows: list[list[Any]] = []
    totals = [0] * 5
    for task in tasks:
        data = task.data
        done = [i for i in data.get("inspections") or [] if _before(i.get("at"), at)]
        findings = [i for i in done if i.get("result") == "finding"]
        opened = [enforcement.get(int(i["enforcement_case_id"])) for i in findings]
        closed = sum(1 for c in opened if c is not None and closed_by(c, at))
        counts = [len(data.get("outfalls") or []), len(done), len(findings), len(opened), closed]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        rows.append(
            [
                str(data.get("title") or data.get("campaign")),
                ref.jurisdiction_name(reference, str(data.get("county", ""))),
                task.id,
                *counts,
                "是" if _before(data.get("submitted_at"), at) else "否",
                "是" if _before(data.get("overdue_at"), at) else "否",
            ]
        )
    late = sum(1 for r in rows if r[-1] == "是")
    rows.append(["合计", "", None, *totals, "", late])
    return Report(
        name="campaign",
        title="重点河流入河排污口专项执法检查（专项检查 × 县区）",
        as_of=as_of.isoformat(),
        keys=[k for k, _ in COLUMNS],
        header=[t for _, t in COLUMNS],
        rows=rows,
        notes={"tasks": len(tasks)},
    )
