"""Guards and actions of workflows/monitoring_task.yaml: one sampling round of one outfall
(强化环境监测, 三(四)4) and the exceedance it may find (超标溯源联动, 三(四)5).

``record_results`` compares each result with the outfall's limit (its ledger record's
``limits``, else the default of its sub-type in ``monitoring.yaml``) and, when one is over,
opens an ``enforcement`` case in the same transaction: source ``exceedance``, violation
``over_limit``, the worst exceedance (highest value / limit) as ``exceedance``, the others in
``description``. ``mark_overdue`` and ``escalate_overdue`` are the timers' (due date, then the
grace period of ``monitoring.yaml``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import TZ, add_days, local_day
from handlers.flows._case import open_escalation
from handlers.flows.monitoring_plan import PLAN, plan_key, task_subject
from handlers.reference import monitoring as mon

__all__ = ["registry"]

registry = Registry()


@registry.action("record_sampling")
def record_sampling(ctx: Context) -> None:
    """The sampling as it happened: within the plan's year, not later than now."""
    moment = datetime.fromisoformat(str(ctx.payload["sampled_at"]).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    if moment > ctx.now:
        raise InputRefused.at("payload", "$.sampled_at", "a sampling is recorded once it is done")
    year = int(ctx.data["year"])
    if moment.astimezone(TZ).year < year:
        raise InputRefused.at(
            "payload", "$.sampled_at", f"a sampling of the {year} plan is taken in {year} or later"
        )
    ctx.data["sampled_at"] = str(ctx.payload["sampled_at"])
    ctx.data["sampler"] = str(ctx.payload["sampler"])


def _checked(ctx: Context) -> list[dict[str, Any]]:
    """The payload's results with their parameters' names and units; an unknown parameter, a
    parameter twice or a unit not the parameter's is refused at its path."""
    errors, seen, out = [], set(), []
    for i, result in enumerate(ctx.payload["results"]):
        code = str(result["parameter"])
        found = mon.parameter(ctx.reference, code)
        if found is None:
            known = ", ".join(str(p.get("code")) for p in mon.parameters(ctx.reference))
            errors.append(
                FieldError(
                    f"$.results[{i}].parameter", f"unknown parameter {code!r} (known: {known})"
                )
            )
            continue
        if code in seen:
            errors.append(FieldError(f"$.results[{i}].parameter", f"{code} is reported twice"))
        seen.add(code)
        unit = str(found.get("unit") or "")
        if result.get("unit") not in (None, unit):
            errors.append(FieldError(f"$.results[{i}].unit", f"{code} is reported in {unit}"))
        out.append(
            {
                "parameter": code,
                "name": found.get("name", code),
                "value": float(result["value"]),
                "unit": unit,
            }
        )
    if errors:
        raise InputRefused("payload", errors)
    return out


def _judge(value: float, limit: mon.Limit | None) -> tuple[str, bool, float | None]:
    """(verdict, over, ratio): 未评价 without a limit; a range is over below its min or above
    its max (ratio: how far past the bound it crossed); an upper bound is over above it."""
    if limit is None:
        return "未评价", False, None
    if isinstance(limit, dict):
        low, high = limit["min"], limit["max"]
        if value > high:
            return "超标", True, round(value / high, 3) if high else None
        if value < low:
            return "超标", True, round(low / value, 3) if value else None
        return "达标", False, None
    over = value > limit
    return ("超标" if over else "达标"), over, round(value / limit, 3) if limit else None


def _compare(results: list[dict[str, Any]], limits: dict[str, mon.Limit]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        limit = limits.get(r["parameter"])
        verdict, over, ratio = _judge(r["value"], limit)
        row = {**r, "limit": limit, "over": over, "ratio": ratio, "verdict": verdict}
        rows.append({**row, "evaluated": limit is not None})
    return rows


def _describe(row: dict[str, Any]) -> str:
    ratio = row["ratio"]
    over = f"超标 {ratio - 1:.0%}" if ratio else "超标"
    value = f"{row['value']:g} {row['unit']}"
    return (
        f"{row['name']}（{row['parameter']}）{value}，限值 {mon.limit_text(row['limit'])}，{over}"
    )


def _bound(row: dict[str, Any]) -> float:
    """The bound an exceedance crossed (of a range: its max above it, its min below it)."""
    limit = row["limit"]
    if isinstance(limit, dict):
        return float(limit["max"] if row["value"] > limit["max"] else limit["min"])
    return float(limit)


def _refer(ctx: Context, over: list[dict[str, Any]], standard: str) -> int:
    """超标溯源联动: the enforcement case of the exceedance (三(四)5)."""
    worst = max(over, key=lambda r: (r["ratio"] or 0, r["parameter"]))
    others = [r for r in over if r is not worst]
    lines = [f"监督监测（{ctx.data['year']}年第{ctx.data['round']}轮）超标：{_describe(worst)}"]
    lines += [f"另超标：{_describe(r)}" for r in others]
    if standard:
        lines.append(f"执行标准：{standard}")
    data: dict[str, Any] = {
        "source": "exceedance",
        "violation_type": "over_limit",
        "county": ctx.data["county"],
        "outfall_code": ctx.data["outfall_code"],
        "description": "；".join(lines),
        "source_case_id": ctx.case_id,
    }
    # the case's exceedance is a value above a bound: of the values above theirs, the worst. A
    # value only below a range's minimum (pH too acid) has no such number (enforcement.yaml
    # wants value > limit): its case is a violation (超标排污), the result in the description.
    above = [r for r in over if r["value"] > _bound(r)]
    if not above:
        data["source"] = "violation"
    else:
        top = max(above, key=lambda r: (r["ratio"] or 0, r["parameter"]))
        data["exceedance"] = {
            "parameter": top["parameter"],
            "value": top["value"],
            "limit": _bound(top),
            "unit": top["unit"],
            "sampled_at": ctx.data.get("sampled_at", ""),
        }
    return ctx.ops.open_case("enforcement", data, subject=str(ctx.data["outfall_code"]))


@registry.action("record_results")
def record_results(ctx: Context) -> None:
    """Compare each result with its limit; an exceedance opens an enforcement case."""
    results = _checked(ctx)
    record = ctx.ops.get_subject("outfall", str(ctx.data["outfall_code"])) or {}
    limits, standard = mon.limits_for(ctx.reference, record)
    rows = _compare(results, limits)
    over = [r for r in rows if r["over"]]
    ctx.data["comparisons"] = rows
    ctx.data["limits_standard"] = standard
    ctx.data["over_limit"] = bool(over)
    ctx.data["done_at"] = ctx.now.isoformat()
    ctx.data["done_on_time"] = local_day(ctx.now).isoformat() <= str(ctx.data["due_date"])
    if over:
        ctx.data["enforcement_case_id"] = _refer(ctx, over, standard)


@registry.action("flag_monitoring_overdue")
def flag_monitoring_overdue(ctx: Context) -> None:
    """The round's due date passed without its results: marked overdue, once, with the time."""
    if not ctx.data.get("overdue"):
        ctx.data["overdue"] = True
        ctx.data["overdue_at"] = ctx.now.isoformat()


@registry.action("escalate_overdue")
def escalate_overdue(ctx: Context) -> None:
    """The grace period after the due date ran out: the county is escalated (督办), once."""
    if ctx.data.get("escalation_case_id") is not None:
        return
    reason = (
        f"排污口 {ctx.data['outfall_code']} {ctx.data['year']}年第{ctx.data['round']}轮监督监测"
        f"于 {ctx.data['due_date']} 到期，宽限期满仍未完成（三(四)4）"
    )
    open_escalation(ctx, "monitoring", reason)


@registry.action("check_monitoring_task_opener")
def check_monitoring_task_opener(ctx: Context) -> None:
    """On opening: only the approval of the county's plan of the year opens a task (its plan
    record is ``opening`` in that transaction only; an admin may reopen one of an approved
    plan), for an outfall and round of that plan, with the plan's due date and grace period."""
    key = plan_key(ctx.data)
    plan = ctx.ops.get_subject(PLAN, key) or {}
    states = ("opening", "approved") if ctx.actor.role in (SYSTEM, ADMIN) else ("opening",)
    if plan.get("state") not in states:
        raise Refused(f"a monitoring task is opened by the approval of {key}'s monitoring plan")
    code, number = str(ctx.data["outfall_code"]), int(ctx.data["round"])
    dates = (plan.get("rounds") or {}).get(code)
    if not dates or not 1 <= number <= len(dates):
        raise Refused(f"round {number} of outfall {code} is not in the approved plan of {key}")
    due = dates[number - 1]
    grace = add_days(date.fromisoformat(due), mon.grace_days(ctx.reference)).isoformat()
    planned = {"due_date": due, "escalate_on": grace, "rounds": len(dates)}
    if plan.get("case_id") is not None:
        planned["plan_case_id"] = plan["case_id"]
    given = {
        "due_date": ctx.data.get("due_date"),
        "escalate_on": ctx.data.get("escalate_on"),
        "rounds": ctx.data.get("rounds"),
        "plan_case_id": ctx.data.get("plan_case_id"),
    }
    for name, value in planned.items():
        if given[name] not in (None, value):
            raise Refused(f"{name} of round {number} of {code} is {value} in the plan of {key}")
    if ctx.subject != task_subject(ctx.data):
        raise Refused(f"a monitoring task's subject is {task_subject(ctx.data)!r}")
    ctx.data["due_date"], ctx.data["escalate_on"] = due, grace
    ctx.data["rounds"] = len(dates)
    if plan.get("case_id") is not None:
        ctx.data["plan_case_id"] = plan["case_id"]
