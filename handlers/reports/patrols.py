"""``qingliu report patrols``: river patrols (巡河, 三(四)5) and daily supervision (日常监督检查,
三(四)3) by county, for the period up to ``--as-of`` (the end of that day, China time):

- 河段数 the county's river sections (``river_sections.yaml``), 已巡河段 those patrolled, 巡河次数
  the patrols submitted, 检查排污口 the outfalls checked on them, 发现问题 the problems found;
- the patrol notices (问题交办单) then: 按期答复 / 逾期答复 (the latest reply by the cut-off, on
  time or not), 办理中 (no reply yet, within the period) and 逾期未答复 (no reply, period over);
- 日常检查 the routine inspections concluded, 发现问题 their findings, 移送执法 the findings
  referred to enforcement, 整改通知 the inspections that ordered a rectification.

Cases are read through the actor's read scope (a county sees its own row); a total row ends
the table (a ``handlers.reports.table.Report``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.handlers import Actor
from engine.store.repository import CaseRow
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reports.table import Report, cutoff, read_cases, refuse_parties

__all__ = ["COLUMNS", "notice_status", "patrols"]

COLUMNS = (
    ("county", "县区"),
    ("sections", "河段数"),
    ("sections_patrolled", "已巡河段"),
    ("patrols", "巡河次数"),
    ("outfalls_checked", "检查排污口"),
    ("problems", "发现问题"),
    ("notices", "交办单"),
    ("replied_on_time", "按期答复"),
    ("replied_late", "逾期答复"),
    ("open", "办理中"),
    ("overdue", "逾期未答复"),
    ("inspections", "日常检查"),
    ("findings", "检查发现问题"),
    ("referred", "移送执法"),
    ("rectification_orders", "整改通知"),
)
NOTICE_STATUSES = ("replied_on_time", "replied_late", "open", "overdue")


def _cases(ledger: Ledger, actor: Actor | None, workflow: str, at: datetime) -> list[CaseRow]:
    return [c for c in read_cases(ledger, actor, workflow) if c.created_at < at]


def _before(entries: Any, at: datetime) -> list[dict[str, Any]]:
    return [e for e in entries or [] if datetime.fromisoformat(str(e["at"])) < at]


def notice_status(data: dict[str, Any], as_of: date) -> str:
    """A notice's status at the end of ``as_of``: replied (on time or late) when its latest
    reply by then was not sent back afterwards; otherwise open or overdue against the reply
    deadline then in force."""
    at = cutoff(as_of)
    replies = _before(data.get("replies"), at)
    backs = _before(data.get("send_backs"), at)
    last_back = backs[-1]["at"] if backs else ""
    if replies and str(replies[-1]["at"]) > str(last_back):
        return "replied_on_time" if replies[-1].get("on_time") else "replied_late"
    every = data.get("send_backs") or []
    if backs:
        due = str(backs[-1]["reply_due"])
    elif every:  # sent back only later: the first period was in force
        due = str(every[0].get("previous_due") or "")
    else:
        due = str(data.get("reply_due") or "")
    return "overdue" if due and date.fromisoformat(due) < as_of else "open"


def _counties(ledger: Ledger, actor: Actor | None) -> list[str]:
    reach = ledger.engine.scope.narrow(actor)
    codes = ref.county_codes(ledger.reference)
    return [c for c in codes if reach is None or c in reach]


def patrols(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    refuse_parties(ledger, actor)
    at = cutoff(as_of)
    counties = _counties(ledger, actor)
    rows = {c: dict.fromkeys((k for k, _ in COLUMNS[1:]), 0) for c in counties}
    patrolled: dict[str, set[str]] = {c: set() for c in counties}
    for county in counties:
        rows[county]["sections"] = len(ref.river_sections(ledger.reference, county=county))
    for case in _cases(ledger, actor, "river_patrol", at):
        row = rows.get(str(case.data.get("county")))
        if row is None or case.state != "submitted" or not case.updated_at < at:
            continue
        patrolled[str(case.data["county"])].add(str(case.data.get("section")))
        row["patrols"] += 1
        row["outfalls_checked"] += int(case.data.get("outfalls_checked") or 0)
        row["problems"] += int(case.data.get("problems_found") or 0)
    for case in _cases(ledger, actor, "patrol_notice", at):
        row = rows.get(str(case.data.get("county")))
        if row is not None:
            row["notices"] += 1
            row[notice_status(case.data, as_of)] += 1
    for case in _cases(ledger, actor, "daily_supervision", at):
        row = rows.get(str(case.data.get("county")))
        concluded = case.data.get("concluded_at")
        if row is None or not concluded or not datetime.fromisoformat(concluded) < at:
            continue
        row["inspections"] += 1
        row["findings"] += len(case.data.get("findings") or [])
        row["referred"] += len(case.data.get("referrals") or [])
        row["rectification_orders"] += bool(case.data.get("rectify_by"))
    for county in counties:
        rows[county]["sections_patrolled"] = len(patrolled[county])
    table = [[ref.jurisdiction_name(ledger.reference, c), *rows[c].values()] for c in counties]
    totals = [sum(r[i] for r in table) for i in range(1, len(COLUMNS))]
    table.append(["合计", *totals])
    return Report(
        "patrols",
        "河长巡河与日常监督检查",
        as_of.isoformat(),
        [k for k, _ in COLUMNS],
        [t for _, t in COLUMNS],
        table,
    )
