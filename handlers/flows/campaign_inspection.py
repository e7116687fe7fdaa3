"""Guards and actions of workflows/campaign_inspection.yaml: a county's task in a key-river
special enforcement campaign (专项执法检查, plan 三(四)5).

The campaign (``handlers.flows.key_river_campaign``) opens the task with the county's outfalls
in scope. The county EEB records one inspection per outfall (``record_inspection``): only an
outfall of the task's list, once; a finding names a violation type of
config/reference/violations.yaml and opens an ``enforcement`` case (``source: campaign``) in the
same transaction, always its own (一事一案: one finding, one enforcement case).
``every_outfall_inspected`` holds the submission until every outfall is
inspected (409 listing the missing ones). A task still open on its due day is marked overdue and
its county escalated (督办, topic ``campaign``).

Only the campaign opens tasks (``check_campaign_task_opener``): a county may not open one (409), and
the task must match the campaign's scope record (``campaign_scope`` subject, key
``<campaign>:<county>``, written by the campaign at launch): its subject, campaign case and
outfall list. An admin may open
one without a scope record (a correction). The task's progress is written to a subject of kind
``campaign_task`` keyed by the task's case id, so that the campaign, which cannot read other
cases, sees which of its own tasks are in.
"""

from __future__ import annotations

from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows._case import open_escalation
from handlers.reference import data as ref

__all__ = ["SCOPE", "TASK", "registry", "task_record"]

registry = Registry()

TASK = "campaign_task"  # the subject kind of a task's progress record
SCOPE = "campaign_scope"  # the subject kind of a campaign's scope for one county
OPENERS = ("eeb_city", "eeb_province")  # the campaign's roles (its handler opens the tasks)


def _codes(data: dict[str, Any]) -> list[str]:
    return [str(o["code"]) for o in data.get("outfalls") or []]


def task_record(ctx: Context) -> dict[str, Any]:
    """What the campaign reads of this task."""
    inspections = ctx.data.get("inspections") or []
    findings = [i for i in inspections if i.get("result") == "finding"]
    return {
        "campaign": ctx.data.get("campaign"),
        "campaign_case_id": ctx.data.get("campaign_case_id"),
        "county": ctx.data.get("county"),
        "case_id": ctx.case_id,
        "due": ctx.data.get("due"),
        "state": ctx.dest or ctx.source,
        "outfalls": len(_codes(ctx.data)),
        "inspected": len(inspections),
        "findings": len(findings),
        "enforcement_case_ids": [i["enforcement_case_id"] for i in findings],
        "submitted_at": ctx.data.get("submitted_at"),
        "overdue": bool(ctx.data.get("overdue")),
    }


@registry.action("check_campaign_task_opener")
def check_campaign_task_opener(ctx: Context) -> None:
    """Only the campaign opens a task: a county's own task would count as submitted without
    inspecting anything. The subject is ``<campaign>:<county>`` and the task matches the
    campaign's scope record for the county (campaign case, outfalls)."""
    role = ctx.actor.role
    if role not in (ADMIN, SYSTEM, *OPENERS):
        raise Refused(
            "a campaign task is opened by its campaign (key_river_campaign launch), "
            f"not by {ctx.actor.name} ({role})"
        )
    subject = f"{ctx.data['campaign']}:{ctx.data['county']}"
    if ctx.subject != subject:
        raise InputRefused.at("data", "$.subject", f"the subject of this task is {subject}")
    scope = ctx.ops.get_subject(SCOPE, subject)
    if scope is None:
        if role == ADMIN:
            return  # a correction by an admin
        raise Refused(f"campaign {ctx.data['campaign']} has no task for {ctx.data['county']}")
    if ctx.data.get("campaign_case_id") != scope.get("campaign_case_id"):
        raise InputRefused.at(
            "data", "$.campaign_case_id", f"the campaign's case is {scope.get('campaign_case_id')}"
        )
    if _codes(ctx.data) != list(scope.get("outfalls") or []):
        raise InputRefused.at(
            "data", "$.outfalls", "the outfalls are not the campaign's scope for this county"
        )


@registry.action("record_task")
def record_task(ctx: Context) -> None:
    """Write the task's progress (``campaign_task`` subject, key: the task's case id) for the
    campaign to read."""
    ctx.ops.put_subject(
        TASK, str(ctx.case_id), task_record(ctx), jurisdiction=str(ctx.data["county"])
    )


@registry.action("record_inspection")
def record_inspection(ctx: Context) -> None:
    """One outfall inspected (三(四)5): compliant, or a finding that opens an enforcement case
    about the outfall with ``source: campaign`` (三(四)3)."""
    code = str(ctx.payload["outfall_code"])
    if code not in _codes(ctx.data):
        raise InputRefused.at(
            "payload", "$.outfall_code", f"outfall {code} is not in this task's list"
        )
    done = ctx.data.get("inspections") or []
    if any(i["outfall_code"] == code for i in done):
        raise Refused(f"outfall {code} has been inspected in this task already")
    today = local_day(ctx.now).isoformat()
    day = str(ctx.payload.get("inspected_on") or today)
    if day > today:
        raise InputRefused.at("payload", "$.inspected_on", f"{day} is after today ({today})")
    inspection: dict[str, Any] = {
        "outfall_code": code,
        "result": str(ctx.payload["result"]),
        "inspected_on": day,
        "by": ctx.actor.name,
        "at": ctx.now.isoformat(),
    }
    for key in ("description", "inspectors"):
        if key in ctx.payload:
            inspection[key] = ctx.payload[key]
    if inspection["result"] == "finding":
        violation = str(ctx.payload["violation_type"])
        if ref.violation(ctx.reference, violation) is None:
            raise InputRefused.at(
                "payload",
                "$.violation_type",
                f"{violation} is not in config/reference/violations.yaml",
            )
        inspection["violation_type"] = violation
        # 一事一案: every finding opens its own enforcement case, even when another one is open
        # about the outfall.
        case_id = ctx.ops.open_case(
            "enforcement",
            {
                "source": "campaign",
                "county": ctx.data["county"],
                "violation_type": violation,
                "outfall_code": code,
                "description": str(
                    ctx.payload.get("description") or f"{ctx.data.get('title', '')}发现"
                ),
                "source_case_id": ctx.case_id,
            },
            subject=code,
        )
        inspection.update(enforcement_case_id=case_id, enforcement_opened=True)
    ctx.data["inspections"] = [*done, inspection]
    record_task(ctx)


@registry.guard("every_outfall_inspected")
def every_outfall_inspected(ctx: Context) -> bool:
    """The task is submitted once every outfall of its list has been inspected."""
    done = {i["outfall_code"] for i in ctx.data.get("inspections") or []}
    missing = [c for c in _codes(ctx.data) if c not in done]
    if missing:
        raise Refused(f"not inspected yet: {', '.join(missing)}")
    return True


@registry.action("stamp_submission")
def stamp_submission(ctx: Context) -> None:
    """When and by whom the task's results were submitted."""
    ctx.data["submitted_at"] = ctx.now.isoformat()
    ctx.data["submitted_by"] = ctx.actor.name


@registry.action("escalate_late_task")
def escalate_late_task(ctx: Context) -> None:
    """The due day passed with the task open: overdue, and the county escalated (督办) about
    the campaign."""
    ctx.data["overdue"] = True
    ctx.data["overdue_at"] = ctx.now.isoformat()
    title = ctx.data.get("title") or ctx.data.get("campaign")
    open_escalation(ctx, "campaign", f"{title}：检查任务逾期未报送（案件 {ctx.case_id}）")
    record_task(ctx)
