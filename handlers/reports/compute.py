"""Reports over the ledger and the cases (docs/ledger.md):

- ``progress``: outfalls by jurisdiction × sub-type × stage (溯源中 / 待整治 / 整治中 / 已完成);
- ``deadlines``: rectification completion against each deadline of
  ``deadlines.yaml: rectification_deadline_by_basin`` (Yellow River basin 2024-06-30,
  citywide 2025-12-31), per county, as of a date;
- ``overdue``: rectification cases past their deadline and not de-listed, and other open cases
  flagged ``overdue``, with the escalation (督办) case and its rung.

Everything is computed "as of" the end of a day in China Standard Time (UTC+8) from the case
histories, so a report for 2024-06-30 run later shows what was true then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from engine.errors import Forbidden
from engine.handlers import Actor
from engine.store.repository import CaseRow
from handlers.dates import CST
from handlers.ledger import Ledger, OutfallView
from handlers.reference import data as ref
from handlers.titles import Titles

__all__ = ["CST", "Report", "cutoff", "deadlines", "overdue", "progress"]

STAGES = (
    ("tracing", "溯源中"),
    ("pending", "待整治"),
    ("rectifying", "整治中"),
    ("done", "已完成"),
)
CLOSED_STATUSES = ("abolished", "merged", "cancelled")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    as_of: str
    keys: list[str]
    header: list[str]
    rows: list[list[Any]]
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "as_of": self.as_of,
            **self.notes,
            "rows": [dict(zip(self.keys, row, strict=True)) for row in self.rows],
        }


def cutoff(as_of: date) -> datetime:
    """The end of ``as_of`` in China Standard Time, as an aware UTC datetime."""
    return datetime.combine(as_of + timedelta(days=1), time(), CST).astimezone(UTC)


def _cst_date(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def today(now: datetime) -> date:
    """The date in China at ``now`` (the engine clock's)."""
    return _cst_date(now)


# -- the facts: outfalls and their cases as of a moment ----------------------------------------


@dataclass
class Facts:
    outfalls: list[OutfallView]
    cases: dict[str, list[CaseRow]]  # workflow -> cases created by the cut-off
    by_subject: dict[tuple[str, str], list[CaseRow]]
    at: datetime
    ever: set[tuple[str, str]] = field(default_factory=set)  # (workflow, subject), any time

    def about(self, workflow: str, code: str) -> list[CaseRow]:
        return self.by_subject.get((workflow, code), [])


def _all_cases(ledger: Ledger, actor: Actor | None, workflow: str) -> list[CaseRow]:
    out: list[CaseRow] = []
    after = 0
    with ledger.engine.store.read() as tx:
        reach = ledger.engine.scope.narrow(actor)
        while True:
            batch = tx.list_cases(
                workflow=workflow, jurisdictions=reach, after_id=after, limit=1000
            )
            out += batch
            if len(batch) < 1000:
                return out
            after = batch[-1].id


def gather(ledger: Ledger, actor: Actor | None, at: datetime) -> Facts:
    if actor is not None and ledger.engine.access.is_party(actor):
        raise Forbidden(
            f"reports are for government roles (your role: {actor.role})", role=actor.role
        )
    outfalls = [v for v in ledger.list(actor) if datetime.fromisoformat(v.created_at) < at]
    cases: dict[str, list[CaseRow]] = {}
    by_subject: dict[tuple[str, str], list[CaseRow]] = {}
    ever: set[tuple[str, str]] = set()
    for workflow in ("responsibility", "rectification", "escalation"):
        every = _all_cases(ledger, actor, workflow)
        ever |= {(workflow, c.subject or "") for c in every}
        cases[workflow] = [c for c in every if c.created_at < at]
        for c in cases[workflow]:
            by_subject.setdefault((workflow, c.subject or ""), []).append(c)
    return Facts(outfalls, cases, by_subject, at, ever)


def closed_by(case: CaseRow, at: datetime) -> bool:
    """A closed case's last change is its closing (final states take no more events)."""
    return not case.is_open and case.updated_at < at


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


def stage(facts: Facts, outfall: OutfallView) -> str:
    if done_at(facts, outfall) is not None:
        return "done"
    if any(not closed_by(c, facts.at) for c in facts.about("rectification", outfall.code)):
        return "rectifying"
    if any(not closed_by(c, facts.at) for c in facts.about("responsibility", outfall.code)):
        return "tracing"
    return "pending"


def _rate(done: int, total: int) -> str:
    return f"{100 * done / total:.1f}%" if total else "-"


# -- progress ---------------------------------------------------------------------------------


def progress(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    facts = gather(ledger, actor, cutoff(as_of))
    reference = ledger.reference
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for outfall in facts.outfalls:
        key = (str(outfall.record["county"]), str(outfall.record["sub_type"]))
        row = counts.setdefault(key, {s: 0 for s, _ in STAGES})
        row[stage(facts, outfall)] += 1
    order = {code: i for i, code in enumerate(ref.county_codes(reference))}
    types = {s["code"]: (s.get("no", 99), s["name"]) for s in ref.sub_types(reference)}
    rows: list[list[Any]] = []
    totals = {s: 0 for s, _ in STAGES}
    for county, sub in sorted(
        counts, key=lambda k: (order.get(k[0], 99), types.get(k[1], (99, ""))[0])
    ):
        row = counts[(county, sub)]
        total = sum(row.values())
        for s in totals:
            totals[s] += row[s]
        rows.append(
            [
                ref.jurisdiction_name(reference, county),
                types.get(sub, (0, sub))[1],
                total,
                *(row[s] for s, _ in STAGES),
                _rate(row["done"], total),
            ]
        )
    grand = sum(totals.values())
    rows.append(["合计", "", grand, *(totals[s] for s, _ in STAGES), _rate(totals["done"], grand)])
    return Report(
        "progress",
        "排污口整治进展（县区 × 类型 × 阶段）",
        as_of.isoformat(),
        ["county", "sub_type", "total", *(s for s, _ in STAGES), "done_rate"],
        ["县区", "排污口类型", "总数", *(t for _, t in STAGES), "完成率"],
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


def deadlines(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    facts = gather(ledger, actor, cutoff(as_of))
    reference = ledger.reference
    order = ref.county_codes(reference)
    rows: list[list[Any]] = []
    for basin, label, day in _deadline_scopes(reference):
        scope = [o for o in facts.outfalls if basin is None or o.record.get("basin") == basin]
        tally: dict[str, list[int]] = {c: [0, 0, 0, 0] for c in order}
        for outfall in scope:
            finished = done_at(facts, outfall)
            t = tally.setdefault(str(outfall.record["county"]), [0, 0, 0, 0])
            t[0] += 1
            if finished is None:
                t[3] += 1
            elif _cst_date(finished) <= day:
                t[1] += 1
            else:
                t[2] += 1
        status = "已到期" if as_of > day else "未到期"
        grand = [0, 0, 0, 0]
        for county in order + sorted(set(tally) - set(order)):
            total, on_time, late, open_ = tally[county]
            if not total:
                continue
            grand = [a + b for a, b in zip(grand, tally[county], strict=True)]
            rows.append(
                [
                    label,
                    day.isoformat(),
                    status,
                    ref.jurisdiction_name(reference, county),
                    total,
                    on_time,
                    late,
                    open_,
                    _rate(on_time + late, total),
                ]
            )
        rows.append(
            [label, day.isoformat(), status, "合计", *grand, _rate(grand[1] + grand[2], grand[0])]
        )
    return Report(
        "deadlines",
        "整治完成情况（对照时限）",
        as_of.isoformat(),
        ["scope", "deadline", "status", "county", "total", "on_time", "late", "open", "done_rate"],
        ["范围", "时限", "到期", "县区", "应整治", "按期完成", "逾期完成", "未完成", "完成率"],
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


def run(name: str, ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    return REPORTS[name](ledger, as_of, actor)
