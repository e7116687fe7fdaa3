"""Guards and actions of workflows/daily_supervision.yaml: a routine inspection (日常监督检查,
plan 三(四)3) of one outfall by its supervising department (the 四(二) matrix) or the EEB.

For stormwater outfalls (市政雨洪排口, and the enterprises' and parks' 雨洪排口) the checklist
covers the urban stormwater duties of 城管 and 住建: 借道排污 (``hidden_pipe``), 雨污混排
(``sewage_into_storm_drain``) and 雨水口晴天排水 (``dry_weather_discharge``); a failed item is
a finding of that violation. Each finding with a violation opens its own enforcement case
(一事一案; ``source: inspection``; the violations table names the enforcing authority) in the
same transaction; a finding without one gets a rectification notice to the responsible party,
re-inspected by a deadline in working days (``patrols.yaml supervision_rectification``); a
missed re-inspection escalates the inspecting department (督办, topic ``daily_supervision``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.flows import escalation
from handlers.flows._case import refuse_another_countys_outfall, supervisor_target
from handlers.periods import period_due
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = ["GENERAL_CHECKS", "STORM_CHECKS", "STORM_SUB_TYPES", "registry", "result"]

registry = Registry()

OUTFALL = "outfall"
PERIOD = "supervision_rectification"
TOPIC = "daily_supervision"  # the escalation topic of a department that misses re-inspections
STORM_SUB_TYPES = frozenset({"municipal_storm", "enterprise_storm", "park_wwtp_storm"})
# 三(四)3 for stormwater outfalls: the checklist item → the violation its failure is
STORM_CHECKS = {
    "no_hidden_pipe": "hidden_pipe",
    "no_sewage_into_storm_drain": "sewage_into_storm_drain",
    "no_dry_weather_discharge": "dry_weather_discharge",
}
GENERAL_CHECKS = {
    "signboard_ok": "标识牌不规范",
    "sampling_point_ok": "采样点不规范",
    "no_abnormal_discharge": "存在异常排放",
}
EEB_ROLES = frozenset({"eeb_city", "county_eeb", "inspector", "eeb_province"})
CLOSED_STATUSES = ("abolished", "merged", "cancelled")


def _names(reference: Mapping[str, Any], departments: list[str]) -> str:
    return "、".join(
        str((ref.department(reference, d) or {}).get("name") or d) for d in departments
    )


def _supervises(ctx: Context, sub_type: str) -> None:
    """The EEB (unified supervision) or a department supervising ``sub_type`` inspects; any
    other is refused with who does."""
    role = ctx.actor.role
    if role in (ADMIN, SYSTEM) or role in EEB_ROLES:
        return
    department = sectors.department_of_role(ctx.reference, role)
    supervising = sectors.supervisors(ctx.reference, sub_type)
    if department is not None and department in supervising:
        return
    name = (ref.sub_type(ctx.reference, sub_type) or {}).get("name", sub_type)
    raise Refused(
        f"{name} outfalls are inspected by {_names(ctx.reference, supervising)} "
        f"or the ecology and environment bureau: {ctx.actor.name} ({role}) does not supervise them"
    )


@registry.action("check_inspector")
def check_inspector(ctx: Context) -> None:
    """The inspection is of an outfall of the ledger (of the case's county, not closed), by
    its supervising department or the EEB (409 otherwise, naming who supervises it)."""
    code = str(ctx.data["outfall_code"])
    if ctx.subject is not None and ctx.subject != code:
        raise InputRefused.at("data", "$.subject", f"the subject is the outfall code {code}")
    record = ctx.ops.get_subject(OUTFALL, code)
    if record is None:
        raise InputRefused.at("data", "$.outfall_code", f"outfall {code} is not in the ledger")
    refuse_another_countys_outfall(ctx)
    if record.get("status") in CLOSED_STATUSES:
        raise Refused(f"outfall {code} is {record['status']}: there is nothing to inspect")
    sub_type = str(record.get("sub_type") or "")
    _supervises(ctx, sub_type)
    role = ctx.actor.role
    department = (
        sectors.UNIFIED_SUPERVISOR
        if role in EEB_ROLES or role in (ADMIN, SYSTEM)
        else sectors.department_of_role(ctx.reference, role)
    )
    ctx.data["sub_type"] = sub_type
    ctx.data["department"] = str(department)
    ctx.data["inspector"] = ctx.actor.name
    ctx.data.setdefault("responsible_party", record.get("responsible_party") or "")


def result(
    sub_type: str, checklist: Mapping[str, Any], findings: list[Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The findings of an inspection (those given, then one per failed checklist item not
    already found) and the storm checks missing from the checklist of a storm outfall."""
    out = [dict(f) for f in findings]
    found = {f.get("violation_type") for f in out}
    storm = sub_type in STORM_SUB_TYPES
    for item, violation in STORM_CHECKS.items():
        if storm and checklist.get(item) is False and violation not in found:
            out.append({"description": f"检查项不合格：{item}", "violation_type": violation})
    for item, text in GENERAL_CHECKS.items():
        if checklist.get(item) is False:
            out.append({"description": text})
    missing = [i for i in STORM_CHECKS if storm and not isinstance(checklist.get(i), bool)]
    return out, missing


def _result(ctx: Context) -> list[dict[str, Any]]:
    checklist = {**(ctx.data.get("checklist") or {}), **(ctx.payload.get("checklist") or {})}
    findings = [*(ctx.data.get("findings") or []), *(ctx.payload.get("findings") or [])]
    out, missing = result(str(ctx.data.get("sub_type") or ""), checklist, findings)
    if missing:
        raise InputRefused.at(
            "payload",
            f"$.checklist.{missing[0]}",
            f"a stormwater outfall's checklist covers {', '.join(STORM_CHECKS)} (三(四)3)",
        )
    return out


@registry.guard("actor_supervises_outfall")
def actor_supervises_outfall(ctx: Context) -> bool:
    """The supervising department of the outfall's sub-type or the EEB acts (409 otherwise)."""
    _supervises(ctx, str(ctx.data.get("sub_type") or ""))
    return True


@registry.guard("no_rectification_needed")
def no_rectification_needed(ctx: Context) -> bool:
    """Concluding: every finding is a violation (referred to enforcement) or there is none."""
    if any(not f.get("violation_type") for f in _result(ctx)):
        raise Refused(
            "a finding without a violation needs a rectification notice: order_rectification"
        )
    return True


@registry.guard("rectification_needed")
def rectification_needed(ctx: Context) -> bool:
    """A rectification notice: at least one finding without a violation."""
    if not any(not f.get("violation_type") for f in _result(ctx)):
        raise Refused("no finding without a violation: conclude the inspection instead")
    return True


def _refer(ctx: Context, violation: str, description: str) -> int:
    data: dict[str, Any] = {
        "source": "inspection",
        "county": ctx.data["county"],
        "violation_type": violation,
        "outfall_code": ctx.data["outfall_code"],
        "description": description,
        "source_case_id": ctx.case_id,
    }
    if ctx.data.get("responsible_party"):
        data["suspected_units"] = [str(ctx.data["responsible_party"])]
    # 一事一案: each finding opens its own enforcement case, even when another is open on the
    # outfall
    case_id = ctx.ops.open_case("enforcement", data, subject=str(ctx.data["outfall_code"]))
    ctx.data["enforcement_case_ids"] = [*(ctx.data.get("enforcement_case_ids") or []), case_id]
    return case_id


@registry.action("record_findings")
def record_findings(ctx: Context) -> None:
    """The checklist and the findings are recorded; each finding with a violation opens an
    enforcement case (``source: inspection``) in this transaction."""
    findings = _result(ctx)
    ctx.data["checklist"] = {
        **(ctx.data.get("checklist") or {}),
        **(ctx.payload.get("checklist") or {}),
    }
    if ctx.payload.get("responsible_party"):
        ctx.data["responsible_party"] = str(ctx.payload["responsible_party"])
    referrals = list(ctx.data.get("referrals") or [])
    for finding in findings:
        if finding.get("violation_type"):
            violation, text = str(finding["violation_type"]), str(finding["description"])
            case_id = _refer(ctx, violation, text)
            referrals.append({"violation_type": violation, "description": text, "case_id": case_id})
    ctx.data["findings"] = findings
    ctx.data["referrals"] = referrals
    ctx.data["rectification_items"] = [
        str(f["description"]) for f in findings if not f.get("violation_type")
    ]
    ctx.data["concluded_at"] = ctx.now.isoformat()


@registry.action("set_rectify_by")
def set_rectify_by(ctx: Context) -> None:
    """整改通知: the responsible party rectifies and is re-inspected by the end of
    ``supervision_rectification`` working days from today."""
    ctx.data["rectify_by"] = period_due(ctx.reference, PERIOD, ctx.now).isoformat()


@registry.action("flag_reinspection_overdue")
def flag_reinspection_overdue(ctx: Context) -> None:
    """Not re-inspected by the deadline: marked overdue at the timer's due time, and the
    inspecting department escalated (督办, topic ``daily_supervision``; a city department as
    itself, the EEB through the outfall's county; an open ladder is reused). Once."""
    if ctx.data.get("reinspection_overdue"):
        return
    ctx.data["reinspection_overdue"] = True
    ctx.data["reinspection_overdue_at"] = ctx.now.isoformat()
    department = str(ctx.data.get("department") or sectors.UNIFIED_SUPERVISOR)
    target = supervisor_target(department, str(ctx.data["county"]))
    reason = (
        f"日常监督检查整改逾期未复查：排污口{ctx.data['outfall_code']}，"
        f"复查期限{ctx.data.get('rectify_by', '')}"
    )
    case_id, _ = escalation.open_escalation(ctx, target, TOPIC, reason)
    ctx.data["escalation_case_id"] = case_id


@registry.action("record_reinspection")
def record_reinspection(ctx: Context) -> None:
    """复查: who re-inspected, when, and what was found."""
    ctx.data["reinspection"] = {
        "by": ctx.actor.name,
        "at": ctx.now.isoformat(),
        "rectified": bool(ctx.payload.get("rectified")),
        "note": str(ctx.payload["note"]),
    }


@registry.action("refer_failed_reinspection")
def refer_failed_reinspection(ctx: Context) -> None:
    """Not rectified at the re-inspection: the violation goes to enforcement, a case of its
    own (一事一案)."""
    _refer(ctx, str(ctx.payload["violation_type"]), str(ctx.payload["note"]))


@registry.action("stamp_inspection_closed")
def stamp_inspection_closed(ctx: Context) -> None:
    """检查结束: when the inspection (and any re-inspection) was over."""
    ctx.data["closed_at"] = ctx.now.isoformat()
