"""Guards and actions of workflows/responsibility.yaml: responsibility (溯源/确定责任主体),
plan section 三(二): "谁污染、谁治理" and government fallback. On completion the ledger
record gets ``responsible_party``/``responsible_fallback`` and, when the outfall
needs rectification, a rectification case is opened.

Tracing is the EEB's and the county's for every outfall, and each sector department's for the
outfalls of its sector (四(二), ``handlers.reference.sectors``). A dispute goes to the common
superior: the city for two counties, the province for a unit of another city, the State
Council for a unit of a neighbouring province (``neighbours.yaml``); the superior government
decides, or designates a department of its level to decide (共同上级政府或政府指定的部门)."""

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
from handlers.reference import sectors

registry = Registry()

# Who decides for a common superior of each level (plan: 共同上级政府); above the province,
# the role neighbours.yaml gives the superior.
DECIDER_ROLE = {"city": "city_gov", "province": "province_gov"}


@registry.guard("actor_supervises_sub_type")
def actor_supervises_sub_type(ctx: Context) -> bool:
    """The EEB and the county trace every outfall; a sector department those of its sector."""
    return sectors.role_may_act(ctx.reference, ctx.actor.role, str(ctx.data.get("sub_type", "")))


def _note_department(ctx: Context) -> None:
    if ctx.actor.role in sectors.sector_roles(ctx.reference):
        ctx.data["identified_by_department"] = sectors.department_of_role(
            ctx.reference, ctx.actor.role
        )


@registry.action("traced_outfall_of_this_county")
def traced_outfall_of_this_county(ctx: Context) -> None:
    """A tracing case is about an outfall of its own county: an outfall code that the ledger
    records for another county is refused (三(二))."""
    refuse_another_countys_outfall(ctx)


@registry.action("mark_discharger_responsible")
def mark_discharger_responsible(ctx: Context) -> None:
    """The tracing found one discharging unit: it is the responsible party
    (``responsible_kind: discharger``), the department that identified it is noted, and
    it is the only discharging unit (三(二))."""
    _note_department(ctx)
    ctx.data["responsible_kind"] = "discharger"
    ctx.data["responsible_fallback"] = False
    ctx.data["discharging_units"] = [ctx.data["responsible_party"]]


@registry.guard("main_party_among_units")
def main_party_among_units(ctx: Context) -> bool:
    """The main responsible party of a shared outfall is one of the units discharging into it."""
    return ctx.payload.get("responsible_party") in (ctx.payload.get("discharging_units") or [])


@registry.action("mark_shared_responsible")
def mark_shared_responsible(ctx: Context) -> None:
    """Several units discharge through the outfall: the main unit is the responsible party
    (``responsible_kind: shared_main``) and the department that identified it is noted
    (三(二), 三(四)4)."""
    _note_department(ctx)
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
    """The dispute names another jurisdiction (``payload.counterpart``) than the case's own
    county: a county cannot be in a cross-border dispute with itself (三(二))."""
    counterpart = ctx.payload.get("counterpart")
    return bool(counterpart) and counterpart != county_of(ctx)


def _province_of(ctx: Context, code: str) -> str | None:
    chain = [code, *ref.ancestors(ctx.reference, code)]
    return next((c for c in chain if ref.level_of(ctx.reference, c) == "province"), None)


@registry.action("refer_to_common_superior")
def refer_to_common_superior(ctx: Context) -> None:
    """City for two counties of the city, province for units of two cities, the neighbours'
    common superior (国务院) for a unit of a neighbouring province. A counterpart neither in
    jurisdictions.yaml nor in neighbours.yaml is taken as a unit of another city of the
    province."""
    county, counterpart = county_of(ctx), str(ctx.data["counterpart"])
    neighbour = ref.neighbour_of(ctx.reference, counterpart)
    if ref.jurisdiction(ctx.reference, counterpart) is not None:
        superior = ref.common_superior(ctx.reference, county, counterpart)
    elif neighbour is not None:
        superior = str(neighbour.get("common_superior") or "") or None
        ctx.data["counterpart_province"] = str(neighbour["code"])
    else:
        superior = _province_of(ctx, county)
    if superior is None:
        raise InputRefused.at(
            "payload",
            "$.counterpart",
            f"{county} and {counterpart} have no common superior government in config/reference",
        )
    ctx.data["referred_to"] = superior
    ctx.data["referred_to_name"] = _superior_name(ctx, superior)


def _superior_name(ctx: Context, superior: str) -> str:
    above = ref.national_superior(ctx.reference, superior)
    if above is not None:
        return str(above.get("name") or superior)
    return ref.jurisdiction_name(ctx.reference, superior)


def _superior_level_and_role(ctx: Context, superior: str) -> tuple[str, str | None]:
    """The superior's level (city, province, national) and the role its government acts in."""
    above = ref.national_superior(ctx.reference, superior)
    if above is not None:
        return str(above.get("level") or "national"), str(above.get("role") or "") or None
    level = str(ref.level_of(ctx.reference, superior))
    return level, DECIDER_ROLE.get(level)


def _within_superior(ctx: Context, superior: str) -> bool:
    """A jurisdiction-bound actor acts for the superior only from the superior itself; a
    national one (no jurisdiction) for a national superior or any other."""
    return ctx.actor.jurisdiction in (None, superior)


@registry.guard("actor_is_superior_government")
def actor_is_superior_government(ctx: Context) -> bool:
    """The government the dispute was referred to (its role and jurisdiction)."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    superior = str(ctx.data.get("referred_to", ""))
    _, role = _superior_level_and_role(ctx, superior)
    return ctx.actor.role == role and _within_superior(ctx, superior)


@registry.guard("actor_is_common_superior")
def actor_is_common_superior(ctx: Context) -> bool:
    """The superior government decides, or the department it designated (designate_decider)."""
    if actor_is_superior_government(ctx):
        return True
    designated = ctx.data.get("designated_decider")
    if not designated:
        return False
    department = ref.department(ctx.reference, str(designated)) or {}
    held = ctx.actor.role in (department.get("roles") or [])
    return held and _within_superior(ctx, str(ctx.data.get("referred_to", "")))


@registry.action("record_designated_decider")
def record_designated_decider(ctx: Context) -> None:
    """政府指定的部门: a department of the superior's own level (the city's bureaus for the city,
    the provincial department for the province, a national body for the State Council)."""
    code = str(ctx.payload["department"])
    department = ref.department(ctx.reference, code)
    superior = str(ctx.data.get("referred_to", ""))
    level, _ = _superior_level_and_role(ctx, superior)
    if department is None or department.get("level") != level:
        raise InputRefused.at(
            "payload",
            "$.department",
            f"{code} is not a {level}-level department in config/reference/departments.yaml, "
            f"so {_superior_name(ctx, superior)} cannot designate it",
        )
    ctx.data["designated_decider"] = code
    ctx.data["designated_decider_name"] = str(department.get("name") or code)
    ctx.data["designated_by"] = ctx.actor.name


@registry.action("mark_superior_decision")
def mark_superior_decision(ctx: Context) -> None:
    """The common superior government (or the department it designated) decided who is
    responsible: the case records that the responsibility came from that decision and by
    whom (三(二))."""
    ctx.data["responsible_kind"] = "superior_decision"
    ctx.data.setdefault("responsible_fallback", False)
    ctx.data["decided_by"] = str(ctx.data.get("referred_to", ""))
    if not actor_is_superior_government(ctx):
        ctx.data["decided_by_department"] = str(ctx.data["designated_decider"])


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
