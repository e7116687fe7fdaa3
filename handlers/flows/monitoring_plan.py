"""Guards and actions of workflows/monitoring_plan.yaml: a county's yearly monitoring plan
(强化环境监测, 三(四)4).

``draw_monitoring`` (on submission) snapshots the pool, the county's active ledger outfalls of
the plan's classes (``monitoring.yaml plan.classes``), makes the draw's secret, records the
commitment in ``data.draw`` and only then draws the outfalls from them (``handlers.sampling``,
the spot-check's draw; the ratio is ``plan.ratio``, nothing in the payload chooses it). A plan
returned and submitted again keeps its first draw. Each drawn outfall gets a frequency by its
river's water quality and due dates; every outfall of the classes with a permit number gets
its party's self-monitoring duty, those without one are flagged. ``approve_monitoring``
reveals the secret and opens one ``monitoring_task`` per drawn outfall and round.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.errors import Refused
from engine.handlers import Context, Registry
from handlers.dates import add_days
from handlers.reference import data as ref
from handlers.reference import monitoring as mon
from handlers.sampling.commit import commitment, new_secret
from handlers.sampling.draw import DRAW_METHOD, DRAW_VERSION, draw_sample

__all__ = ["PLAN", "monitoring_pool", "plan_key", "registry", "task_subject"]

registry = Registry()

MONITOR = "监测站"  # the draw's one "inspector": the targets are outfalls only
PLAN = "monitoring_plan"  # subject kind: one record per county and year, once submitted


def plan_key(data: dict[str, Any]) -> str:
    """A plan's subject and the key of its record: ``<county>:<year>``."""
    return f"{data['county']}:{data['year']}"


def task_subject(data: dict[str, Any]) -> str:
    """A sampling round's subject: ``<outfall code>:<year>-<round>``."""
    return f"{data['outfall_code']}:{data['year']}-{data['round']}"


def monitoring_pool(ctx: Context, county: str, classes: list[str]) -> list[dict[str, Any]]:
    """The active ledger outfalls of ``classes`` in ``county``, as the draw's pool."""
    pool = []
    for row in ctx.ops.list_subjects("outfall", county):
        data = row["data"]
        if data.get("sub_type") not in classes or data.get("status", "active") != "active":
            continue
        pool.append(
            {
                "code": row["key"],
                "sub_type": data.get("sub_type"),
                "county": data.get("county") or row["jurisdiction"],
                "responsible_party": data.get("responsible_party"),
                "river": data.get("river"),
                "permit_number": data.get("permit_number"),
            }
        )
    return pool


def _draw(ctx: Context, county: str) -> list[dict[str, Any]]:
    policy = mon.plan_policy(ctx.reference)
    pool = monitoring_pool(ctx, county, policy["classes"])
    if not pool:
        raise Refused(
            f"the ledger has no active outfall of {', '.join(policy['classes'])} in {county}"
        )
    secret = new_secret()
    station = [f"{ref.jurisdiction_name(ctx.reference, county)}{MONITOR}"]
    ctx.data["draw"] = {
        "draw_version": DRAW_VERSION,
        "method": DRAW_METHOD,
        "commitment": commitment((p["code"] for p in pool), secret),
        "ratio": policy["ratio"],
        "classes": policy["classes"],
        "min_inspectors": 1,
        "weights": {},
        # public once revealed: codes and sub-types only, no party's name
        "pool": [{k: p[k] for k in ("code", "sub_type", "county")} for p in pool],
        "inspectors": station,
        "conflicts": {},
        "drawn_at": ctx.now.isoformat(),
        "drawn_by": ctx.actor.name,
    }
    targets = draw_sample(
        ctx.data["draw"]["pool"], station, secret, policy["ratio"], {}, min_inspectors=1
    )
    ctx.data["draw_secret"] = secret
    ctx.data["draw"]["targets"] = targets
    return pool


def _planned(ctx: Context, item: dict[str, Any], year: int) -> dict[str, Any]:
    record = ctx.ops.get_subject("outfall", str(item["code"])) or {}
    times, quality = mon.frequency(ctx.reference, item.get("river"))
    limits, standard = mon.limits_for(ctx.reference, record)
    return {
        "outfall_code": item["code"],
        "name": record.get("name", ""),
        "sub_type": item.get("sub_type"),
        "river": item.get("river"),
        "water_quality": quality,
        "frequency": times,
        "due_dates": mon.due_dates(year, times),
        "limits": limits,
        "limits_standard": standard,
    }


def _duties(pool: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    duties, unpermitted = [], []
    for item in sorted(pool, key=lambda p: str(p["code"])):
        base = {
            "outfall_code": item["code"],
            "sub_type": item.get("sub_type"),
            "responsible_party": item.get("responsible_party"),
        }
        permit = item.get("permit_number")
        if permit:
            duty = f"按排污许可证（证号 {permit}）要求开展自行监测，如实记录并公开监测数据"
            duties.append({**base, "permit_number": permit, "duty": duty})
        else:
            unpermitted.append({**base, "flag": "台账未登记排污许可证号，需核实是否应持证排污"})
    return duties, unpermitted


def _record(ctx: Context, state: str) -> None:
    """The county and year's plan record: which case holds it, its state, and once approved
    the rounds it plans (what ``monitoring_task`` checks a task against)."""
    rounds = {str(o["outfall_code"]): list(o.get("due_dates") or []) for o in _outfalls(ctx)}
    record = {
        "county": ctx.data["county"],
        "year": ctx.data["year"],
        "case_id": ctx.case_id,
        "state": state,
        "rounds": rounds if state in ("opening", "approved") else {},
    }
    ctx.ops.put_subject(PLAN, plan_key(ctx.data), record, jurisdiction=str(ctx.data["county"]))


def _outfalls(ctx: Context) -> list[dict[str, Any]]:
    return list(ctx.data.get("outfalls") or [])


@registry.action("check_plan_opening")
def check_plan_opening(ctx: Context) -> None:
    """One plan per county and year (the 双随机 draw is not re-rolled): the subject is
    ``<county>:<year>``, and no other plan of that county and year was submitted."""
    key = plan_key(ctx.data)
    if ctx.subject != key:
        raise Refused(f"a monitoring plan's subject is {key!r}, not {ctx.subject!r}")
    held = ctx.ops.get_subject(PLAN, key)
    if held and held.get("case_id") != ctx.case_id:
        raise Refused(
            f"{key} already has a monitoring plan (case {held.get('case_id')}, "
            f"{held.get('state')}): its draw stands"
        )


@registry.action("draw_monitoring")
def draw_monitoring(ctx: Context) -> None:
    """双随机 (三(四)4 with 三(三)'s draw): commit to the pool and a fresh secret, then draw the
    outfalls to monitor; list the rounds and the self-monitoring duties."""
    if ctx.payload.get("summary"):
        ctx.data["summary"] = str(ctx.payload["summary"])
    if "draw" in ctx.data:
        return  # submitted again after a return: the first draw stands
    county, year = str(ctx.data["county"]), int(ctx.data["year"])
    pool = _draw(ctx, county)
    by_code = {str(p["code"]): p for p in pool}
    targets = ctx.data["draw"]["targets"]
    outfalls = [_planned(ctx, by_code[str(t["outfall_code"])], year) for t in targets]
    ctx.data["outfalls"] = outfalls
    ctx.data["rounds_planned"] = sum(o["frequency"] for o in outfalls)
    ctx.data["self_monitoring"], ctx.data["unpermitted"] = _duties(pool)
    _record(ctx, "submitted")


@registry.action("record_plan_return")
def record_plan_return(ctx: Context) -> None:
    """The city sends the plan back to the county with its reason (the draw stays as made)."""
    ctx.data["return_reason"] = str(ctx.payload["reason"])


@registry.action("approve_monitoring")
def approve_monitoring(ctx: Context) -> None:
    """Reveal the draw's secret and open the sampling tasks, one per outfall and round. A round
    already due before the approval day is opened too: overdue at once, escalated when its
    grace period from the due date has run out (the timers fire late)."""
    draw = dict(ctx.data.get("draw") or {})
    secret = ctx.data.get("draw_secret")
    if secret is not None:
        draw.update(secret=secret, revealed_at=ctx.now.isoformat(), revealed_by=ctx.actor.name)
        ctx.data["draw"] = draw
    _record(ctx, "opening")  # the tasks below check against it (monitoring_task.py)
    grace = mon.grace_days(ctx.reference)
    county, year = str(ctx.data["county"]), int(ctx.data["year"])
    ids = []
    for item in ctx.data.get("outfalls") or []:
        dates = list(item.get("due_dates") or [])
        for number, due in enumerate(dates, start=1):
            data = {
                "county": county,
                "year": year,
                "outfall_code": item["outfall_code"],
                "round": number,
                "rounds": len(dates),
                "due_date": due,
                "escalate_on": add_days(date.fromisoformat(due), grace).isoformat(),
                "plan_case_id": ctx.case_id,
            }
            ids.append(ctx.ops.open_case("monitoring_task", data, subject=task_subject(data)))
    # 计划监测轮次 counts the plan's rounds (all opened, past-due ones included)
    ctx.data["rounds_planned"] = sum(len(o.get("due_dates") or []) for o in _outfalls(ctx))
    _record(ctx, "approved")
    ctx.data["task_ids"] = ids
    ctx.data["approved_at"] = ctx.now.isoformat()
    ctx.data["approved_by"] = ctx.actor.name
