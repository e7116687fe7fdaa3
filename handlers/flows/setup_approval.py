"""Guards and actions of workflows/setup_approval.yaml: setup approval and registration
(设置审批/登记), plan section 三(四)2: authority by the project's EIA level, the water-function
zone rule, retroactive permits, publication."""

from __future__ import annotations

from engine.definition.model import ADMIN, SYSTEM
from engine.handlers import Context, Registry
from handlers.flows._case import OUTFALL, update_outfall
from handlers.reference import data as ref

registry = Registry()

# The role that decides for each authority; city and county both act through an approval bureau
# whose jurisdiction must cover the case (checked by the engine's scope).
AUTHORITY_ROLE = {
    "basin_bureau": "basin_bureau",
    "province": "eeb_province",
    "city": "approval_bureau",
    "county": "approval_bureau",
}


# -- routing: the application goes to the authority of its EIA level ---------------------------


@registry.action("assign_basin_bureau")
def assign_basin_bureau(ctx: Context) -> None:
    ctx.data["authority"] = "basin_bureau"


@registry.action("assign_province")
def assign_province(ctx: Context) -> None:
    ctx.data["authority"] = "province"


@registry.action("assign_city")
def assign_city(ctx: Context) -> None:
    ctx.data["authority"] = "city"


@registry.action("assign_county")
def assign_county(ctx: Context) -> None:
    ctx.data["authority"] = "county"


# City and county approval bureaus share a role; the level of the actor's jurisdiction tells
# them apart (an actor without a jurisdiction is not narrowed).
AUTHORITY_LEVELS = {"city": ("city",), "county": ref.COUNTY_LEVELS}


@registry.guard("actor_is_authority")
def actor_is_authority(ctx: Context) -> bool:
    """Only the authority the application was routed to reviews and decides it."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    authority = str(ctx.data.get("authority"))
    if ctx.actor.role != AUTHORITY_ROLE.get(authority):
        return False
    levels = AUTHORITY_LEVELS.get(authority)
    if levels is None or ctx.actor.jurisdiction is None:
        return True
    return ref.level_of(ctx.reference, ctx.actor.jurisdiction) in levels


@registry.guard("needs_approval")
def needs_approval(ctx: Context) -> bool:
    """Enterprise, park WWTP and urban WWTP outfalls are approved (MEE Order No. 35)."""
    return ref.approval_required(ctx.reference, str(ctx.data.get("sub_type", "")))


@registry.guard("registration_suffices")
def registration_suffices(ctx: Context) -> bool:
    """Every other known sub-type is registered (登记) instead."""
    code = str(ctx.data.get("sub_type", ""))
    return ref.sub_type(ctx.reference, code) is not None and not ref.approval_required(
        ctx.reference, code
    )


@registry.guard("retroactive_outfall_exists")
def retroactive_outfall_exists(ctx: Context) -> bool:
    """A retroactive permit (补办) is for an existing outfall: it must be in the ledger."""
    if ctx.data.get("kind") != "retroactive":
        return True
    return ctx.ops.get_subject(OUTFALL, str(ctx.data.get("outfall_code", ""))) is not None


@registry.guard("water_function_zone_allows")
def water_function_zone_allows(ctx: Context) -> bool:
    """Where the water-function zone misses its target, only urban WWTP outfalls may be set up
    (plan section 三(四)1: 严格控制除城镇污水处理厂外的排污口设置)."""
    if ctx.data.get("zone_meets_target", True):
        return True
    return ctx.data.get("sub_type") == "urban_wwtp"


@registry.action("record_refusal")
def record_refusal(ctx: Context) -> None:
    ctx.data["refusal_reason"] = str(ctx.payload["reason"])


@registry.action("record_rejection")
def record_rejection(ctx: Context) -> None:
    ctx.data["rejection_reason"] = str(ctx.payload["reason"])


@registry.action("publish_decision")
def publish_decision(ctx: Context) -> None:
    """Results are published (审批备案信息依法公开): when, under which decision number."""
    ctx.data["published_at"] = ctx.now.isoformat()
    ctx.data.setdefault("decision_number", f"{ctx.workflow}-{ctx.case_id}")


@registry.action("record_setup_basis")
def record_setup_basis(ctx: Context) -> None:
    """An outfall already in the ledger (retroactive permits, changes) gets its setup basis."""
    basis = "registration" if ctx.data.get("authority") is None else "approval"
    update_outfall(ctx, setup_basis=basis, setup_decision=ctx.data.get("decision_number"))


@registry.action("count_reminder")
def count_reminder(ctx: Context) -> None:
    ctx.data["reminders_sent"] = int(ctx.data.get("reminders_sent", 0)) + 1


@registry.action("mark_overdue")
def mark_overdue(ctx: Context) -> None:
    ctx.data["overdue"] = True
