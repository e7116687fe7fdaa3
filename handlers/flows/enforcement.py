"""Guards and actions of workflows/enforcement.yaml: enforcement and exceedance tracing (执法,
超标溯源联动).

A monitoring exceedance on an outfall links the case to the outfall's ledger record; tracing
then names the discharging units behind it (from the outfall's responsible party and the
inspection), so the gap between unit and outfall is closed.
"""

from __future__ import annotations

from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.reference import data as ref

__all__ = ["registry"]

registry = Registry()

OUTFALL = "outfall"
SNAPSHOT = ("name", "sub_type", "county", "river", "basin", "responsible_party", "status")


@registry.action("assign_enforcing_authority")
def assign_enforcing_authority(ctx: Context) -> None:
    """The violation type names the enforcing authority and the legal basis
    (config/reference/violations.yaml; 三(四)3: the EEB's unified enforcement power)."""
    code = str(ctx.data["violation_type"])
    found = ref.violation(ctx.reference, code)
    authority = ref.violation_authority(ctx.reference, code)
    if found is None or authority is None:
        raise InputRefused.at(
            "data", "$.violation_type", f"{code} is not in config/reference/violations.yaml"
        )
    ctx.data["enforcing_authority"] = str(authority["code"])
    ctx.data["enforcing_authority_name"] = str(authority.get("name") or authority["code"])
    ctx.data["legal_basis"] = str(found.get("basis") or "")


@registry.guard("actor_enforces_violation")
def actor_enforces_violation(ctx: Context) -> bool:
    """Only the authority of the case's violation type decides, orders, dismisses, verifies."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    code = str(ctx.data["violation_type"])
    authority = ref.violation_authority(ctx.reference, code) or {}
    if ctx.actor.role in (authority.get("roles") or []):
        return True
    name = (ref.violation(ctx.reference, code) or {}).get("name", code)
    raise Refused(
        f"{name} is enforced by {authority.get('name', '?')} under "
        f"{ctx.data.get('legal_basis', '?')}: {ctx.actor.name} may not {ctx.trigger}"
    )


@registry.action("link_outfall")
def link_outfall(ctx: Context) -> None:
    """An exceedance or violation on an outfall: the outfall must be in the ledger; its record
    (as of now) is linked, and its responsible party is the first suspect to trace."""
    exceedance = ctx.data.get("exceedance")
    if exceedance is not None and float(exceedance["value"]) <= float(exceedance["limit"]):
        raise InputRefused.at(
            "data",
            "$.exceedance.value",
            f"{exceedance['parameter']} {exceedance['value']} is not above its limit "
            f"{exceedance['limit']}: no exceedance",
        )
    code = ctx.data.get("outfall_code")
    if not code:
        return
    record = ctx.ops.get_subject(OUTFALL, str(code))
    if record is None:
        raise InputRefused.at(
            "data",
            "$.outfall_code",
            f"outfall {code} is not in the ledger: add it first (qingliu ledger add)",
        )
    ctx.data["outfall"] = {k: record[k] for k in SNAPSHOT if k in record}
    suspects = list(ctx.data.get("suspected_units") or [])
    party = record.get("responsible_party")
    if party and party not in suspects:
        suspects.insert(0, party)
    ctx.data["suspected_units"] = suspects


def _unit_name(unit: Any) -> str:
    return str(unit["name"]) if isinstance(unit, dict) else str(unit)


@registry.action("record_traced_units")
def record_traced_units(ctx: Context) -> None:
    """谁污染、谁治理: the units found discharging through the outfall; one is the main one."""
    units = [dict(u) for u in ctx.payload["units"]]
    main = [u for u in units if u.get("main")]
    if len(main) > 1:
        raise InputRefused.at("payload", "$.units", "name at most one main responsible unit")
    ctx.data["units"] = units
    ctx.data["main_unit"] = _unit_name((main or units)[0])
    suspects = set(ctx.data.get("suspected_units") or [])
    ctx.data["confirmed_suspects"] = sorted(suspects & {_unit_name(u) for u in units})
    ctx.data["traced_at"] = ctx.now.isoformat()


@registry.action("flag_order_overdue")
def flag_order_overdue(ctx: Context) -> None:
    """The order to correct ran past its limit without being verified: the case is marked
    overdue (``order_overdue``), with the time (三(四)5)."""
    ctx.data["order_overdue"] = True
    ctx.data["order_overdue_at"] = ctx.now.isoformat()


@registry.action("stamp_enforcement_closed")
def stamp_enforcement_closed(ctx: Context) -> None:
    """The enforcement case is over: when it closed and how (the final state: ``outcome``)
    are recorded (三(四)5)."""
    ctx.data["closed_at"] = ctx.now.isoformat()
    ctx.data["outcome"] = ctx.dest
