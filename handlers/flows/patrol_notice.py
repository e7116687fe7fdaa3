"""Guards and actions of workflows/patrol_notice.yaml: a problem a river chief or grid inspector
found on a patrol (巡河, plan 三(四)5), notified to the department supervising the outfall's
sub-type (四(二)) with a reply deadline in working days (``patrols.yaml``).

The department acknowledges, handles (referring a violation to enforcement, ``source:
patrol``), and replies; the river chief confirms or sends it back (a new period from then).
When the deadline lapses unanswered the notice is marked overdue and the department is
escalated (督办, topic ``patrol_notice``): a city department as itself, the EEB through the
county whose branch handles the notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows import escalation
from handlers.flows._case import supervisor_target
from handlers.periods import period_due
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = ["PERIOD", "TOPIC", "department_for", "department_roles", "registry"]

registry = Registry()

TOPIC = "patrol_notice"  # the escalation topic of a department that lets notices lapse
PERIOD = "patrol_notice_reply"  # patrols.yaml: the reply period, working days
OUTFALL = "outfall"
# The county branch acts for the city EEB on the outfalls of its county.
COUNTY_BRANCH = {sectors.UNIFIED_SUPERVISOR: "county_eeb"}


def department_for(reference: Mapping[str, Any], sub_type: str) -> str:
    """The department a problem at an outfall of ``sub_type`` goes to: the first supervising
    department of the 四(二) matrix (a sector department before the EEB), else the EEB."""
    found = sectors.supervisors(reference, sub_type)
    sector = [d for d in found if d != sectors.UNIFIED_SUPERVISOR]
    return (sector or found or [sectors.UNIFIED_SUPERVISOR])[0]


def department_roles(reference: Mapping[str, Any], department: str) -> list[str]:
    """The roles that act for ``department`` on a notice (its own, and the EEB's county
    branch)."""
    roles = [str(r) for r in (ref.department(reference, department) or {}).get("roles") or []]
    branch = COUNTY_BRANCH.get(department)
    return [*roles, branch] if branch else roles


@registry.action("open_notice")
def open_notice(ctx: Context) -> None:
    """The notice opens: only from a submitted patrol (river_patrol's handler sets
    ``patrol_case_id``, a field no caller may set; or an administrator), on an outfall in the
    ledger of the notice's county, to the department the 四(二) matrix names for its sub-type;
    the reply is due ``patrol_notice_reply`` working days from today."""
    if ctx.data.get("patrol_case_id") is None and ctx.actor.role not in (ADMIN, SYSTEM):
        raise Refused(
            "a patrol notice is opened by submitting a river patrol (river_patrol), "
            f"not by hand: {ctx.actor.name} ({ctx.actor.role}) may not open one"
        )
    code = str(ctx.data["outfall_code"])
    record = ctx.ops.get_subject(OUTFALL, code)
    if record is None:
        raise InputRefused.at("data", "$.outfall_code", f"outfall {code} is not in the ledger")
    if record.get("county") != ctx.data["county"]:
        raise InputRefused.at(
            "data", "$.outfall_code", f"outfall {code} is not in the ledger of {ctx.data['county']}"
        )
    department = str(ctx.data["department"])
    found = ref.department(ctx.reference, department)
    if found is None:
        raise InputRefused.at(
            "data", "$.department", f"{department!r} is not in config/reference/departments.yaml"
        )
    sub_type = str(record.get("sub_type") or "")
    expected = department_for(ctx.reference, sub_type)
    if department != expected:
        raise InputRefused.at(
            "data",
            "$.department",
            f"a problem at outfall {code} ({sub_type}) goes to {expected} (四(二)), "
            f"not {department}",
        )
    ctx.data["department_name"] = str(found.get("name") or department)
    ctx.data["sub_type"] = sub_type
    ctx.data["notified_on"] = local_day(ctx.now).isoformat()
    ctx.data["reply_due"] = period_due(ctx.reference, PERIOD, ctx.now).isoformat()


@registry.guard("actor_is_notified_department")
def actor_is_notified_department(ctx: Context) -> bool:
    """Only the notified department (or the EEB's county branch for the EEB) handles it."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    if ctx.actor.role in department_roles(ctx.reference, str(ctx.data["department"])):
        return True
    raise Refused(
        f"this notice is for {ctx.data.get('department_name')}: "
        f"{ctx.actor.name} ({ctx.actor.role}) may not {ctx.trigger} it"
    )


@registry.action("stamp_acknowledged")
def stamp_acknowledged(ctx: Context) -> None:
    """签收: when and by whom the department took the notice."""
    ctx.data["acknowledged_at"] = ctx.now.isoformat()


@registry.action("open_patrol_enforcement")
def open_patrol_enforcement(ctx: Context) -> None:
    """The department finds a violation behind the problem: an enforcement case of its own
    opens (立案来源 巡河; 一事一案, even when another is open on the outfall), in this
    transaction; the violation type names its enforcing authority."""
    data: dict[str, Any] = {
        "source": "patrol",
        "county": ctx.data["county"],
        "violation_type": ctx.payload["violation_type"],
        "outfall_code": ctx.data["outfall_code"],
        "description": str(ctx.payload.get("description") or ctx.data["problem"]),
        "source_case_id": ctx.case_id,
    }
    case_id = ctx.ops.open_case("enforcement", data, subject=str(ctx.data["outfall_code"]))
    ctx.data["enforcement_case_ids"] = [*(ctx.data.get("enforcement_case_ids") or []), case_id]


@registry.action("record_reply")
def record_reply(ctx: Context) -> None:
    """答复: the measures and the reply, when, and whether by the deadline (``reply_due``)."""
    on_time = local_day(ctx.now).isoformat() <= str(ctx.data["reply_due"])
    ctx.data["measures"] = str(ctx.payload["measures"])
    ctx.data["reply"] = str(ctx.payload["reply"])
    ctx.data["replied_at"] = ctx.now.isoformat()
    ctx.data["replied_on_time"] = on_time
    entry = {"at": ctx.now.isoformat(), "by": ctx.actor.name, "on_time": on_time}
    ctx.data["replies"] = [*(ctx.data.get("replies") or []), entry]


@registry.action("record_notice_send_back")
def record_notice_send_back(ctx: Context) -> None:
    """退回重办: the river chief's reason; the department has a new reply period from today."""
    due = period_due(ctx.reference, PERIOD, ctx.now).isoformat()
    entry = {
        "at": ctx.now.isoformat(),
        "by": ctx.actor.name,
        "reason": str(ctx.payload["reason"]),
        "reply_due": due,
        "previous_due": ctx.data["reply_due"],
    }
    ctx.data["send_backs"] = [*(ctx.data.get("send_backs") or []), entry]
    ctx.data["reply_due"] = due
    ctx.data.pop("replied_on_time", None)


@registry.action("flag_notice_overdue")
def flag_notice_overdue(ctx: Context) -> None:
    """The reply deadline lapsed: the notice is marked overdue (at the timer's due time) and
    the department escalated (督办, topic ``patrol_notice``; an open ladder is reused). Once per
    deadline: a second firing of the same deadline changes nothing."""
    if ctx.data.get("overdue") and ctx.data.get("overdue_due") == ctx.data.get("reply_due"):
        return
    ctx.data["overdue"] = True
    ctx.data["overdue_at"] = ctx.now.isoformat()
    ctx.data["overdue_due"] = ctx.data["reply_due"]
    department = str(ctx.data["department"])
    target = supervisor_target(department, str(ctx.data["county"]))
    reason = (
        f"巡河问题交办单逾期未答复：排污口{ctx.data['outfall_code']}，"
        f"答复期限{ctx.data['reply_due']}（{ctx.data.get('department_name', department)}）"
    )
    case_id, _ = escalation.open_escalation(ctx, target, TOPIC, reason)
    ctx.data["escalation_case_id"] = case_id


@registry.action("stamp_notice_closed")
def stamp_notice_closed(ctx: Context) -> None:
    """办结: when the river chief confirmed the reply."""
    ctx.data["closed_at"] = ctx.now.isoformat()
