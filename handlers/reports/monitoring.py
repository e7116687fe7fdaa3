"""``qingliu report monitoring``: 强化环境监测 (三(四)4) by county for the year of the day asked,
as of the end of that day (China Standard Time):

- 计划监测排污口 ``outfalls``: the outfalls drawn in the county's approved plan of the year;
- 计划监测轮次 ``rounds``: the sampling rounds of those plans (every round, the ones already due
  when a plan was approved late included: they are opened too, and go overdue);
- 已到期 ``due``: rounds whose due date is the day or earlier;
- 已完成 ``done`` and 按期完成 ``on_time`` (results reported by the end of the due date);
- 逾期未完成 ``overdue``: due before the day and not done by its end;
- 超标 ``over_limit``: done rounds with a result over its limit;
- 移送执法 ``enforcement``: enforcement cases those exceedances opened (三(四)5).

Cases are read through the actor's read scope, like the other reports: a county sees its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.handlers import Actor
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reports.facts import closed_by
from handlers.reports.table import Report, cutoff, read_cases, refuse_parties

__all__ = ["COLUMNS", "monitoring"]

COLUMNS = (
    ("outfalls", "计划监测排污口"),
    ("rounds", "计划监测轮次"),
    ("due", "已到期"),
    ("done", "已完成"),
    ("on_time", "按期完成"),
    ("overdue", "逾期未完成"),
    ("over_limit", "超标"),
    ("enforcement", "移送执法"),
)


def _tally(ledger: Ledger, actor: Actor | None, as_of: date) -> dict[str, dict[str, int]]:
    at, year, day = cutoff(as_of), as_of.year, as_of.isoformat()
    tally: dict[str, dict[str, int]] = {}

    def row(county: Any) -> dict[str, int]:
        return tally.setdefault(str(county), dict.fromkeys((k for k, _ in COLUMNS), 0))

    for plan in read_cases(ledger, actor, "monitoring_plan"):
        if plan.data.get("year") == year and closed_by(plan, at):
            outfalls = plan.data.get("outfalls") or []
            t = row(plan.data.get("county"))
            t["outfalls"] += len(outfalls)
            t["rounds"] += sum(len(o.get("due_dates") or []) for o in outfalls)
    for task in read_cases(ledger, actor, "monitoring_task"):
        data = task.data
        if data.get("year") != year or task.created_at >= at:
            continue
        t = row(data.get("county"))
        done = closed_by(task, at)
        t["due"] += str(data.get("due_date")) <= day
        t["done"] += done
        t["on_time"] += done and bool(data.get("done_on_time"))
        t["overdue"] += not done and str(data.get("due_date")) < day
        t["over_limit"] += done and bool(data.get("over_limit"))
        t["enforcement"] += done and data.get("enforcement_case_id") is not None
    return tally


def monitoring(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    refuse_parties(ledger, actor)
    reference = ledger.reference
    tally = _tally(ledger, actor, as_of)
    order = ref.county_codes(reference)
    keys = [k for k, _ in COLUMNS]
    rows: list[list[Any]] = []
    total = dict.fromkeys(keys, 0)
    for county in order + sorted(set(tally) - set(order)):
        if county not in tally:
            continue
        counts = tally[county]
        total = {k: total[k] + counts[k] for k in keys}
        rows.append([ref.jurisdiction_name(reference, county), *(counts[k] for k in keys)])
    rows.append(["合计", *(total[k] for k in keys)])
    return Report(
        "monitoring",
        f"{as_of.year}年入河排污口监督监测情况",
        as_of.isoformat(),
        ["county", *keys],
        ["县区", *(title for _, title in COLUMNS)],
        rows,
        {"year": as_of.year},
    )
