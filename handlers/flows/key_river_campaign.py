"""Guards and actions of workflows/key_river_campaign.yaml: the city's special enforcement
campaign on the key rivers (入河排污口专项执法检查, plan 三(四)5: 徒骇河、马颊河、卫运河等重点河流
及其支流).

Scope: the rivers the launch names, else every river marked ``key: true`` in rivers.yaml but the
Yellow River main stem (``EXCLUDED``: its outfalls are covered by the Yellow River basin's own
rectification deadline and checks; the plan's sentence names 徒骇河、马颊河、卫运河), each with its
tributaries (``ref.tributaries``) unless ``include_tributaries`` is false. ``launch_campaign``
snapshots the active outfalls on those rivers from the ledger and opens one
``campaign_inspection`` task per county that has any. The tasks report their progress in
``campaign_task`` subjects, which the campaign's guards and its report read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows._case import OUTFALL
from handlers.flows.campaign_inspection import SCOPE, TASK
from handlers.reference import data as ref

__all__ = ["EXCLUDED", "campaign_rivers", "registry", "river_name"]

registry = Registry()

EXCLUDED = ("huanghe",)  # key rivers left out of the default scope (the Yellow River main stem)


def campaign_rivers(
    reference: Mapping[str, Any], named: list[str] | None, tributaries: bool = True
) -> list[str]:
    """The rivers in scope: ``named`` (or the default key rivers), then their tributaries."""
    rivers = (reference.get("rivers") or {}).get("rivers") or []
    base = named or [
        str(r["code"]) for r in rivers if r.get("key") and r.get("code") not in EXCLUDED
    ]
    scope = list(base)
    if tributaries:
        for code in base:
            scope += [t for t in ref.tributaries(reference, code) if t not in scope]
    return scope


def river_name(reference: Mapping[str, Any], code: str) -> str:
    found = ref.river(reference, code)
    return str(found["name"]) if found else code


def _named_rivers(ctx: Context) -> list[str] | None:
    named = ctx.payload.get("rivers")
    if named is None:
        return None
    errors = [
        FieldError(f"$.rivers[{i}]", f"{code} is not a river of rivers.yaml")
        for i, code in enumerate(named)
        if ref.river(ctx.reference, str(code)) is None
    ]
    if errors:
        raise InputRefused("payload", errors)
    return [str(c) for c in named]


@registry.action("launch_campaign")
def launch_campaign(ctx: Context) -> None:
    """Compute the outfalls in scope (active ledger outfalls on the campaign's rivers), keep the
    snapshot, and open one inspection task per county that has any, due on ``due``."""
    due = str(ctx.payload["due"])
    today = local_day(ctx.now).isoformat()
    if due < today:
        raise InputRefused.at("payload", "$.due", f"the due day {due} is before today ({today})")
    tributaries = bool(ctx.payload.get("include_tributaries", True))
    rivers = campaign_rivers(ctx.reference, _named_rivers(ctx), tributaries)
    by_county: dict[str, list[dict[str, Any]]] = {}
    for row in ctx.ops.list_subjects(OUTFALL, str(ctx.data["county"])):
        record = row["data"]
        if record.get("river") not in rivers or record.get("status", "active") != "active":
            continue
        county = str(record.get("county") or row["jurisdiction"])
        item = {k: record[k] for k in ("name", "river", "sub_type") if record.get(k)}
        by_county.setdefault(county, []).append({"code": row["key"], **item})
    if not by_county:
        names = "、".join(river_name(ctx.reference, r) for r in rivers)
        raise Refused(f"the ledger has no active outfall on {names}: nothing to inspect")
    order = {c: i for i, c in enumerate(ref.county_codes(ctx.reference))}
    counties = sorted(by_county, key=lambda c: (order.get(c, 99), c))
    subject = str(ctx.subject)
    tasks: dict[str, int] = {}
    for county in counties:
        ctx.ops.put_subject(
            SCOPE,
            f"{subject}:{county}",
            {
                "campaign": subject,
                "campaign_case_id": ctx.case_id,
                "county": county,
                "outfalls": [o["code"] for o in by_county[county]],
            },
            jurisdiction=county,
        )
        tasks[county] = ctx.ops.open_case(
            "campaign_inspection",
            {
                "county": county,
                "campaign": subject,
                "campaign_case_id": ctx.case_id,
                "title": ctx.data["title"],
                "due": due,
                "outfalls": by_county[county],
            },
            subject=f"{subject}:{county}",
        )
    ctx.data.update(
        due=due,
        rivers=rivers,
        scope={c: [o["code"] for o in by_county[c]] for c in counties},
        tasks=tasks,
        launched_at=ctx.now.isoformat(),
        launched_by=ctx.actor.name,
    )


def _tasks(ctx: Context) -> dict[str, dict[str, Any]]:
    """The progress records of the tasks this campaign opened (``tasks``: county -> case id),
    by county; a record of any other case is not the campaign's."""
    ours = {int(case_id): county for county, case_id in (ctx.data.get("tasks") or {}).items()}
    out: dict[str, dict[str, Any]] = {}
    for row in ctx.ops.list_subjects(TASK, str(ctx.data["county"])):
        county = ours.get(int(row["data"].get("case_id") or 0))
        if county is not None and row["data"].get("county") == county:
            out[county] = dict(row["data"])
    return out


def _missing(ctx: Context) -> list[str]:
    tasks = _tasks(ctx)
    return [c for c in ctx.data.get("tasks") or {} if tasks.get(c, {}).get("state") != "submitted"]


@registry.guard("every_task_submitted")
def every_task_submitted(ctx: Context) -> bool:
    """Every county's task has been submitted."""
    return not _missing(ctx)


@registry.guard("campaign_may_close")
def campaign_may_close(ctx: Context) -> bool:
    """The city closes the campaign once every task is submitted, or after its due day (the
    missing ones then go into the report); an admin (a correction) at any time."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    missing = _missing(ctx)
    today = local_day(ctx.now).isoformat()
    if missing and today <= str(ctx.data.get("due")):
        names = "、".join(ref.jurisdiction_name(ctx.reference, c) for c in missing)
        raise Refused(f"tasks not submitted yet ({names}): close after {ctx.data.get('due')}")
    return True


@registry.action("record_late_counties")
def record_late_counties(ctx: Context) -> None:
    """At the due day with tasks still open: the counties not submitted (each task escalates
    its own county)."""
    ctx.data["late_counties"] = _missing(ctx)


@registry.action("write_campaign_report")
def write_campaign_report(ctx: Context) -> None:
    """The campaign report (专项检查报告): per county the outfalls in scope, inspected, findings,
    enforcement cases opened, whether the task was submitted and whether it was overdue."""
    tasks = _tasks(ctx)
    counties = []
    totals = dict.fromkeys(("outfalls", "inspected", "findings", "enforcement_cases"), 0)
    for county, codes in (ctx.data.get("scope") or {}).items():
        task = tasks.get(county, {})
        row = {
            "county": county,
            "county_name": ref.jurisdiction_name(ctx.reference, county),
            "task_case_id": (ctx.data.get("tasks") or {}).get(county),
            "outfalls": len(codes),
            "inspected": int(task.get("inspected", 0)),
            "findings": int(task.get("findings", 0)),
            "enforcement_cases": list(task.get("enforcement_case_ids") or []),
            "submitted": task.get("state") == "submitted",
            "overdue": bool(task.get("overdue")),
        }
        counties.append(row)
        for key in ("outfalls", "inspected", "findings"):
            totals[key] += row[key]
        totals["enforcement_cases"] += len(row["enforcement_cases"])
    ctx.data["report"] = {
        "title": f"{ctx.data['title']}报告",
        "rivers": [river_name(ctx.reference, r) for r in ctx.data.get("rivers") or []],
        "counties": counties,
        "totals": totals,
        "not_submitted": [c["county"] for c in counties if not c["submitted"]],
        "closed_by": ctx.actor.name,
    }
    ctx.data["closed_at"] = ctx.now.isoformat()
