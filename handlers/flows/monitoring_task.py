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

from datetime import datetime
from typing import Any

from engine.errors import FieldError, InputRefused
from engine.handlers import Context, Registry
from handlers.dates import TZ, local_day
from handlers.flows._case import open_escalation
from handlers.reference import monitoring as mon

__all__ = ["registry"]

registry = Registry()


@registry.action("record_sampling")
def record_sampling(ctx: Context) -> None:
    """The sampling as it happened: not later than now."""
    moment = datetime.fromisoformat(str(ctx.payload["sampled_at"]).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    if moment > ctx.now:
        raise InputRefused.at("payload", "$.sampled_at", "a sampling is recorded once it is done")
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


def _compare(results: list[dict[str, Any]], limits: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        limit = limits.get(r["parameter"])
        over = limit is not None and r["value"] > limit
        ratio = round(r["value"] / limit, 3) if limit else None
        rows.append({**r, "limit": limit, "over": over, "ratio": ratio})
    return rows


def _describe(row: dict[str, Any]) -> str:
    over = f"超标 {row['ratio'] - 1:.0%}"
    value = f"{row['value']:g} {row['unit']}"
    return f"{row['name']}（{row['parameter']}）{value}，限值 {row['limit']:g}，{over}"


def _refer(ctx: Context, over: list[dict[str, Any]], standard: str) -> int:
    """超标溯源联动: the enforcement case of the exceedance (三(四)5)."""
    worst = max(over, key=lambda r: (r["ratio"], r["parameter"]))
    others = [r for r in over if r is not worst]
    lines = [f"监督监测（{ctx.data['year']}年第{ctx.data['round']}轮）超标：{_describe(worst)}"]
    lines += [f"另超标：{_describe(r)}" for r in others]
    if standard:
        lines.append(f"执行标准：{standard}")
    data = {
        "source": "exceedance",
        "violation_type": "over_limit",
        "county": ctx.data["county"],
        "outfall_code": ctx.data["outfall_code"],
        "exceedance": {
            "parameter": worst["parameter"],
            "value": worst["value"],
            "limit": worst["limit"],
            "unit": worst["unit"],
            "sampled_at": ctx.data.get("sampled_at", ""),
        },
        "description": "；".join(lines),
        "source_case_id": ctx.case_id,
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
