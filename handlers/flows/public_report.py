"""Guards and actions of workflows/public_report.yaml: public reports (随手拍 / 有奖举报).

A report is routed on arrival to the supervising department of its sub-type (plan section
四(二), config/reference/outfall_types.yaml), refined by place: where a sub-type is shared by
urban management (城区、县城) and housing (建制镇), the report's ``area`` decides. A founded report
puts a newly found outfall into the ledger (with its responsibility case) and refers a
violation to enforcement, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from engine.errors import FieldError, InputRefused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.ledger import record as ledger
from handlers.reference import data as ref

__all__ = ["LEAD_DEPARTMENT", "PLACE_PREFERENCE", "registry", "route"]

registry = Registry()

LEAD_DEPARTMENT = "eeb_city"  # unified supervision of every outfall discharge
# Where a sub-type has several departments, the place picks one if it is among them.
PLACE_PREFERENCE = {"urban": "urban_mgmt_city", "town": "housing_city", "rural": "eeb_city"}
# The county branch of the lead department investigates for it.
COUNTY_BRANCH = {"eeb_city": "county_eeb"}


def route(reference: Any, sub_type: str | None, area: str | None) -> tuple[str, list[str]]:
    """``(assigned_department, co_departments)`` for a report of ``sub_type`` in ``area``."""
    departments = ref.departments_for(reference, sub_type) if sub_type else []
    if not departments:
        return LEAD_DEPARTMENT, []
    preferred = PLACE_PREFERENCE.get(area or "")
    lead = preferred if preferred in departments else departments[0]
    return lead, [d for d in departments if d != lead]


@registry.action("route_report")
def route_report(ctx: Context) -> None:
    """Route by sub-type and place; the county of the place investigates with the department."""
    lead, co = route(ctx.reference, ctx.data.get("sub_type"), ctx.data.get("area"))
    ctx.data["assigned_department"] = lead
    ctx.data["co_departments"] = co
    ctx.data["routed_at"] = ctx.now.isoformat()
    ctx.data.setdefault("routing", []).append(
        {"department": lead, "by": ctx.actor.name, "at": ctx.now.isoformat(), "basis": "sub_type"}
    )


@registry.action("reroute_report")
def reroute_report(ctx: Context) -> None:
    """The city EEB corrects a routing (e.g. the sub-type turned out to be another)."""
    department = str(ctx.payload["department"])
    if ref.department(ctx.reference, department) is None:
        raise InputRefused.at(
            "payload", "$.department", f"{department!r} is not a department in config/reference"
        )
    ctx.data["assigned_department"] = department
    ctx.data["co_departments"] = [d for d in ctx.data.get("co_departments", []) if d != department]
    ctx.data["routing"].append(
        {
            "department": department,
            "by": ctx.actor.name,
            "at": ctx.now.isoformat(),
            "basis": ctx.payload.get("reason", ""),
        }
    )


@registry.guard("actor_is_assigned")
def actor_is_assigned(ctx: Context) -> bool:
    """The assigned department (or its county branch) investigates; the city EEB may too."""
    assigned = str(ctx.data.get("assigned_department"))
    role = ctx.actor.role
    return role in ("admin", LEAD_DEPARTMENT, assigned) or role == COUNTY_BRANCH.get(assigned)


@registry.action("flag_investigation_overdue")
def flag_investigation_overdue(ctx: Context) -> None:
    """The investigation of the public report ran past its limit: the case is marked overdue
    (``investigation_overdue``), with the time (四(四))."""
    ctx.data["investigation_overdue"] = True
    ctx.data["investigation_overdue_at"] = ctx.now.isoformat()


def _new_record(ctx: Context) -> dict[str, Any]:
    given = dict(ctx.payload["outfall"])
    record = {
        "county": ctx.data["county"],
        "longitude": ctx.data["longitude"],
        "latitude": ctx.data["latitude"],
        "found_at": local_day(ctx.now).isoformat(),
        **given,
    }
    if "address" not in record and ctx.data.get("address"):
        record["address"] = ctx.data["address"]
    return ledger.complete(ctx.reference, record)


@registry.action("register_reported_outfall")
def register_reported_outfall(ctx: Context) -> None:
    """A founded report found a new outfall: it enters the ledger and its responsibility case
    (溯源/确定责任主体) opens."""
    record = _new_record(ctx)
    errors = ledger.check_outfall(ctx.reference, record)
    if errors:  # the record is the payload's outfall, completed from the report
        paths = [FieldError("$.outfall" + e.json_path[1:], e.message) for e in errors]
        raise InputRefused("payload", paths)
    if record["county"] != ctx.data["county"]:
        raise InputRefused.at(
            "payload",
            "$.outfall.county",
            f"the outfall is registered in the report's county ({ctx.data['county']})",
        )
    code = str(record["code"])
    if ctx.ops.get_subject(ledger.KIND, code) is not None:
        raise InputRefused.at(
            "payload",
            "$.outfall.code",
            f"outfall {code} is already in the ledger: refer a violation instead",
        )
    ctx.ops.put_subject(ledger.KIND, code, record, jurisdiction=str(record["county"]))
    case_id, _ = ctx.ops.open_case_if_absent(
        "responsibility", ledger.responsibility_data(record), subject=code
    )
    ctx.data["outfall_code"] = code
    ctx.data["responsibility_case_id"] = case_id


@registry.action("refer_to_enforcement")
def refer_to_enforcement(ctx: Context) -> None:
    """A founded report of a violation opens an enforcement case (执法)."""
    code = ctx.payload.get("outfall_code") or ctx.data.get("outfall_code")
    data: dict[str, Any] = {
        "source": "public_report",
        "county": ctx.data["county"],
        "violation_type": ctx.payload["violation_type"],
        "description": ctx.data.get("finding") or ctx.data.get("description", ""),
        "source_case_id": ctx.case_id,
    }
    if code:
        data["outfall_code"] = code
    if ctx.payload.get("units"):
        data["suspected_units"] = list(ctx.payload["units"])
    ctx.data["enforcement_case_id"] = ctx.ops.open_case("enforcement", data, subject=code)


@registry.guard("followed_up")
def followed_up(ctx: Context) -> bool:
    """Before the reward: a found outfall is in the ledger, a violation is with enforcement."""
    found = set(ctx.data.get("found") or [])
    outfall_done = "new_outfall" not in found or "responsibility_case_id" in ctx.data
    violation_done = "violation" not in found or "enforcement_case_id" in ctx.data
    return outfall_done and violation_done


@registry.action("stamp_reply")
def stamp_reply(ctx: Context) -> None:
    """The reporter was answered: when and by whom (四(四))."""
    ctx.data["replied_at"] = ctx.now.isoformat()
    ctx.data["replied_by"] = ctx.actor.name
