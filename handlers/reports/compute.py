"""Reports over the ledger and the cases (docs/ledger.md):

- ``progress``: outfalls by jurisdiction × sub-type × stage (``facts.STAGES``: 未溯源 / 溯源中 /
  无需整治 / 保留 / 待整治 / 整治中 / 已完成), 应整治 and 完成率 = 已完成 / 应整治, and the new
  outfalls (新增排污口) with how many are cleared (已清零);
- ``deadlines``: rectification completion against each deadline of
  ``deadlines.yaml: rectification_deadline_by_basin`` (Yellow River basin 2024-06-30,
  citywide 2025-12-31), per county, as of a date: the outfalls found by the campaign
  deadline (应整治 without the 无需整治 / 保留 ones, an untraced one counted as not done), and
  apart from them the new outfalls found after it, which have deadlines of their own;
- ``overdue``: rectification cases past their deadline and not de-listed, and other open cases
  flagged ``overdue``, with the escalation (督办) case and its rung.

Everything is computed "as of" the end of a day in China Standard Time (UTC+8) from the case
histories, so a report for 2024-06-30 run later shows what was true then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from engine.handlers import Actor
from engine.store.repository import CaseRow
from handlers.dates import CST
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reports import campaign, monitoring, patrols, screening
from handlers.reports.facts import EXEMPT, STAGES, Facts, closed_by, gather
from handlers.reports.groups import Group, groups
from handlers.reports.table import Report, cutoff
from handlers.titles import Titles

__all__ = ["CST", "Report", "cutoff", "deadlines", "overdue", "progress"]


def _cst_date(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def today(now: datetime) -> date:
    """The date in China at ``now`` (the engine clock's)."""
    return _cst_date(now)


def _rate(done: int, total: int) -> str:
    return f"{100 * done / total:.1f}%" if total else "-"


# -- progress ---------------------------------------------------------------------------------

COUNTS = (*(s for s, _ in STAGES), "new", "new_cleared")


def _progress_row(row: Mapping[str, int]) -> list[Any]:
    total = sum(row[s] for s, _ in STAGES)
    due = total - sum(row[s] for s in EXEMPT)
    return [
        total,
        *(row[s] for s, _ in STAGES),
        due,
        _rate(row["done"], due),
        row["new"],
        row["new_cleared"],
    ]


def progress(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    reference = ledger.reference
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for group in groups(ledger, actor, cutoff(as_of)):
        row = counts.setdefault((group.county, group.sub_type), dict.fromkeys(COUNTS, 0))
        row[group.stage] += group.count
        if group.new:
            row["new"] += group.count
            row["new_cleared"] += group.count if group.cleared else 0
    order = {code: i for i, code in enumerate(ref.county_codes(reference))}
    types = {s["code"]: (s.get("no", 99), s["name"]) for s in ref.sub_types(reference)}
    rows: list[list[Any]] = []
    totals = dict.fromkeys(COUNTS, 0)
    for county, sub in sorted(
        counts, key=lambda k: (order.get(k[0], 99), types.get(k[1], (99, ""))[0])
    ):
        row = counts[(county, sub)]
        for s in totals:
            totals[s] += row[s]
        name = ref.jurisdiction_name(reference, county)
        rows.append([name, types.get(sub, (0, sub))[1], *_progress_row(row)])
    rows.append(["合计", "", *_progress_row(totals)])
    return Report(
        "progress",
        "排污口整治进展（县区 × 类型 × 阶段）",
        as_of.isoformat(),
        ["county", "sub_type", "total", *(s for s, _ in STAGES), "due", "done_rate"]
        + ["new", "new_cleared"],
        ["县区", "排污口类型", "总数", *(t for _, t in STAGES), "应整治", "完成率"]
        + ["新增排污口", "其中已清零"],
        rows,
    )


# -- deadlines --------------------------------------------------------------------------------


def _deadline_scopes(reference: Mapping[str, Any]) -> list[tuple[str | None, str, date]]:
    """(basin or None for citywide, label, deadline), earliest first."""
    table = (reference.get("deadlines") or {}).get("rectification_deadline_by_basin") or {}
    basins = {b["code"]: b["name"] for b in (reference.get("rivers") or {}).get("basins") or []}
    scopes: list[tuple[str | None, str, date]] = []
    for basin, day in table.items():
        if basin == "default":
            scopes.append((None, "全市", date.fromisoformat(str(day))))
        else:
            scopes.append((basin, basins.get(basin, basin), date.fromisoformat(str(day))))
    return sorted(scopes, key=lambda s: (s[2], s[0] is None))


TALLY = (
    "outfalls",
    "not_needed",
    "retained",
    "total",
    "on_time",
    "late",
    "open",
    "untraced",
    "new",
    "new_cleared",
)


def _tally(group: Group, deadline: int) -> list[str]:
    """The columns of TALLY the group's outfalls count in, against the ``deadline``-th day."""
    if group.new:  # found after its campaign: its own deadline (动态清零)
        return ["new", "new_cleared"] if group.cleared else ["new"]
    if group.exempt:
        return ["outfalls", group.stage]
    if not group.finished:
        late = ["untraced"] if group.stage in ("untraced", "tracing") else []
        return ["outfalls", "total", "open", *late]
    return ["outfalls", "total", "on_time" if group.on_time[deadline] else "late"]


def _deadline_row(label: str, day: date, status: str, county: str, t: list[int]) -> list[Any]:
    c = dict(zip(TALLY, t, strict=True))
    rate = _rate(c["on_time"] + c["late"], c["total"])
    return [label, day.isoformat(), status, county, *t[:8], rate, *t[8:]]


def deadlines(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    reference = ledger.reference
    order = ref.county_codes(reference)
    rows: list[list[Any]] = []
    scopes = _deadline_scopes(reference)
    found = groups(ledger, actor, cutoff(as_of), [day for _, _, day in scopes])
    for i, (basin, label, day) in enumerate(scopes):
        tally: dict[str, list[int]] = {c: [0] * len(TALLY) for c in order}
        for group in found:
            if basin is not None and group.basin != basin:
                continue
            t = tally.setdefault(group.county, [0] * len(TALLY))
            for column in _tally(group, i):
                t[TALLY.index(column)] += group.count
        status = "已到期" if as_of > day else "未到期"
        grand = [0] * len(TALLY)
        for county in order + sorted(set(tally) - set(order)):
            if not any(tally[county]):
                continue
            grand = [a + b for a, b in zip(grand, tally[county], strict=True)]
            name = ref.jurisdiction_name(reference, county)
            rows.append(_deadline_row(label, day, status, name, tally[county]))
        rows.append(_deadline_row(label, day, status, "合计", grand))
    return Report(
        "deadlines",
        "整治完成情况（对照时限）",
        as_of.isoformat(),
        ["scope", "deadline", "status", "county", *TALLY[:8], "done_rate", *TALLY[8:]],
        ["范围", "时限", "到期", "县区", "排污口", "无需整治", "保留", "应整治", "按期完成"]
        + ["逾期完成", "未完成", "其中未溯源", "完成率", "新增排污口", "其中已清零"],
        rows,
    )


# -- overdue ----------------------------------------------------------------------------------


def _escalation_for(facts: Facts, case: CaseRow) -> CaseRow | None:
    wanted = case.data.get("escalation_case_id")
    ladders = facts.cases.get("escalation", [])
    found = [e for e in ladders if e.id == wanted or e.data.get("source_case_id") == case.id]
    if not found:  # a ladder about the county's rectification opened from another case
        found = [
            e
            for e in ladders
            if e.data.get("target") == case.data.get("county")
            and e.data.get("topic", "rectification") == "rectification"
        ]
    return max(found, key=lambda e: e.id) if found else None


def _state_at(ledger: Ledger, case: CaseRow, at: datetime) -> str:
    state = case.state
    for event in ledger.engine.history(case.id):
        if event.at < at and event.to_state:
            state = event.to_state
    return state


def overdue(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    at = cutoff(as_of)
    facts = gather(ledger, actor, at)
    titles = Titles(ledger.engine)
    reference = ledger.reference
    rows: list[list[Any]] = []
    for case in facts.cases["rectification"]:
        deadline = case.data.get("deadline")
        if closed_by(case, at) or not deadline or date.fromisoformat(deadline) >= as_of:
            continue
        days = (as_of - date.fromisoformat(deadline)).days
        ladder = _escalation_for(facts, case)
        rung = ""
        if ladder is not None:
            state = _state_at(ledger, ladder, at)
            rung = titles.state("escalation", state, ladder.workflow_version)
        rows.append(
            [
                case.id,
                titles.workflow(case.workflow, case.workflow_version),
                case.subject or "",
                ref.jurisdiction_name(reference, str(case.data.get("county", ""))),
                deadline,
                days,
                titles.state(case.workflow, _state_at(ledger, case, at), case.workflow_version),
                ladder.id if ladder is not None else None,
                rung,
            ]
        )
    rows.sort(key=lambda r: (-r[5], r[0]))
    return Report(
        "overdue",
        "逾期案件与督办情况",
        as_of.isoformat(),
        [
            "case_id",
            "workflow",
            "outfall",
            "county",
            "deadline",
            "days_overdue",
            "state",
            "escalation_case_id",
            "escalation_rung",
        ],
        ["案件", "流程", "排污口", "县区", "时限", "逾期天数", "当前环节", "督办案件", "督办阶段"],
        rows,
        {"count": len(rows)},
    )


REPORTS = {"progress": progress, "deadlines": deadlines, "overdue": overdue}
REPORTS["monitoring"] = monitoring.monitoring  # 强化环境监测 (三(四)4), its own module
REPORTS["patrols"] = patrols.patrols
REPORTS.update(campaign=campaign.campaign, screening=screening.screening)


def run(name: str, ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    return REPORTS[name](ledger, as_of, actor)
