"""Guards and actions of workflows/responsibility.yaml: responsibility (溯源/确定责任主体),
plan section 三(二): "谁污染、谁治理" and government fallback. On completion the ledger
record gets ``responsible_party``/``responsible_fallback`` and, when the outfall
needs rectification, a rectification case is opened."""

from __future__ import annotations

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import InputRefused
from engine.handlers import Context, Registry
from handlers.flows._case import (
    OUTFALL,
    county_of,
    government_name,
    outfall_code,
    refuse_another_countys_outfall,
    update_outfall,
)
from handlers.reference import data as ref

registry = Registry()

# Who decides for a common superior of each level (plan: 共同上级政府).
DECIDER_ROLE = {"city": "city_gov", "province": "province_gov"}


@registry.action("traced_outfall_of_this_county")
def traced_outfall_of_this_county(ctx: Context) -> None:
    refuse_another_countys_outfall(ctx)


@registry.action("mark_discharger_responsible")
def mark_discharger_responsible(ctx: Context) -> None:
    ctx.data["responsible_kind"] = "discharger"
    ctx.data["responsible_fallback"] = False
    ctx.data["discharging_units"] = [ctx.data["responsible_party"]]


@registry.guard("main_party_among_units")
def main_party_among_units(ctx: Context) -> bool:
    """The main responsible party of a shared outfall is one of the units discharging into it."""
    return ctx.payload.get("responsible_party") in (ctx.payload.get("discharging_units") or [])


@registry.action("mark_shared_responsible")
def mark_shared_responsible(ctx: Context) -> None:
    ctx.data["responsible_kind"] = "shared_main"
    ctx.data["responsible_fallback"] = False


@registry.action("assign_county_fallback")
def assign_county_fallback(ctx: Context) -> None:
    """Untraceable: the county government, or the department it names, is responsible."""
    department = ctx.data.get("designated_department")
    if department:
        ctx.data["responsible_party"] = department
        ctx.data["responsible_kind"] = "designated_department"
    else:
        ctx.data["responsible_party"] = government_name(ctx, county_of(ctx))
        ctx.data["responsible_kind"] = "county_government"
    ctx.data["responsible_fallback"] = True


@registry.guard("counterpart_is_other_jurisdiction")
def counterpart_is_other_jurisdiction(ctx: Context) -> bool:
    counterpart = ctx.payload.get("counterpart")
    return bool(counterpart) and counterpart != county_of(ctx)


def _province_of(ctx: Context, code: str) -> str | None:
    chain = [code, *ref.ancestors(ctx.reference, code)]
    return next((c for c in chain if ref.level_of(ctx.reference, c) == "province"), None)


@registry.action("refer_to_common_superior")
def refer_to_common_superior(ctx: Context) -> None:
    """City for two counties of the city, province for units of two cities. A counterpart not
    in config/reference is taken as a unit of another city of the province."""
    county, counterpart = county_of(ctx), str(ctx.data["counterpart"])
    if ref.jurisdiction(ctx.reference, counterpart) is not None:
        superior = ref.common_superior(ctx.reference, county, counterpart)
    else:
        superior = _province_of(ctx, county)
    if superior is None:
        raise InputRefused.at(
            "payload",
            "$.counterpart",
            f"{county} and {counterpart} have no common superior government in config/reference",
        )
    ctx.data["referred_to"] = superior


@registry.guard("actor_is_common_superior")
def actor_is_common_superior(ctx: Context) -> bool:
    """Only the government the dispute was referred to decides (its role and jurisdiction)."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    superior = str(ctx.data.get("referred_to", ""))
    if ctx.actor.role != DECIDER_ROLE.get(str(ref.level_of(ctx.reference, superior))):
        return False
    return ctx.actor.jurisdiction in (None, superior)


@registry.action("mark_superior_decision")
def mark_superior_decision(ctx: Context) -> None:
    ctx.data["responsible_kind"] = "superior_decision"
    ctx.data.setdefault("responsible_fallback", False)
    ctx.data["decided_by"] = str(ctx.data.get("referred_to", ""))


@registry.action("record_responsible_party")
def record_responsible_party(ctx: Context) -> None:
    """Write the responsible party into the outfall's ledger record."""
    update_outfall(
        ctx,
        responsible_party=ctx.data["responsible_party"],
        responsible_fallback=bool(ctx.data.get("responsible_fallback", False)),
    )


@registry.action("open_rectification_if_needed")
def open_rectification_if_needed(ctx: Context) -> None:
    """An outfall that needs rectification gets a rectification case (unless one is open);
    one that does not is 无需整治 in the ledger (the reports count it out of 应整治)."""
    if not ctx.data.get("needs_rectification"):
        record = ctx.ops.get_subject(OUTFALL, outfall_code(ctx)) or {}
        if record.get("rectification_status", "pending") == "pending":
            update_outfall(ctx, rectification_status="not_needed")
        return
    keys = ("county", "sub_type", "river", "basin", "responsible_party", "discharging_units")
    data = {"outfall_code": outfall_code(ctx), **{k: ctx.data[k] for k in keys if k in ctx.data}}
    case_id, _ = ctx.ops.open_case_if_absent("rectification", data, outfall_code(ctx))
    ctx.data["rectification_case_id"] = case_id
