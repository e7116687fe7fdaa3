"""Helpers the outfall flows share: updating the ledger record of the case's outfall and
opening an escalation (督办) case for a lagging county, both inside the running transaction."""

from __future__ import annotations

from typing import Any

from engine.errors import InputRefused
from engine.handlers import Context
from handlers.flows import escalation
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = [
    "OUTFALL",
    "county_of",
    "government_name",
    "open_escalation",
    "outfall_code",
    "put_outfall",
    "refuse_another_countys_outfall",
    "supervisor_target",
    "update_outfall",
]

OUTFALL = "outfall"  # the ledger's subject kind


def outfall_code(ctx: Context) -> str:
    return str(ctx.data.get("outfall_code") or ctx.subject or "")


def county_of(ctx: Context) -> str:
    return str(ctx.data.get("county") or "")


def update_outfall(ctx: Context, **changes: Any) -> bool:
    """Merge ``changes`` into the ledger record of the case's outfall; False when the outfall
    is not in the ledger (a case opened by hand about an outfall not yet recorded)."""
    code = outfall_code(ctx)
    record = ctx.ops.get_subject(OUTFALL, code) if code else None
    if record is None:
        return False
    record.update(changes)
    put_outfall(ctx, code, record)
    return True


def refuse_another_countys_outfall(ctx: Context) -> None:
    """A case is about an outfall of its own county: an outfall code whose ledger record is
    another county's is refused at its field (an outfall code belongs to the county of its
    record). A code not yet in the ledger passes (a case opened about an outfall being
    recorded)."""
    code = outfall_code(ctx)
    owner = ctx.ops.owner_of(OUTFALL, code) if code else None
    county = county_of(ctx)
    if owner is not None and county and owner != county:
        path = "$.outfall_code" if ctx.data.get("outfall_code") else "$.subject"
        raise InputRefused.at(
            "data", path, f"outfall {code} is in the ledger of another county, not of {county}"
        )


def put_outfall(ctx: Context, code: str, record: dict[str, Any]) -> None:
    """Store a ledger record a flow changed, in its own county (or the case's)."""
    ctx.ops.put_subject(OUTFALL, code, record, jurisdiction=record.get("county") or county_of(ctx))


def supervisor_target(department: str, county: str) -> str:
    """Whom a department's lapsed duty escalates (督办): a city department itself; for the EEB,
    the outfall's county (its branch there handles the county's outfalls)."""
    return county if department == sectors.UNIFIED_SUPERVISOR else department


def government_name(ctx: Context, county: str) -> str:
    """人民政府 of a county, 管理委员会 of a development zone."""
    unit = ref.jurisdiction(ctx.reference, county)
    name = ref.jurisdiction_name(ctx.reference, county)
    return f"{name}管理委员会" if unit and unit.get("level") == "zone" else f"{name}人民政府"


def open_escalation(ctx: Context, topic: str, reason: str) -> int:
    """Open a 督办 case against the case's county about ``topic`` unless one is open already
    (``handlers.escalation``); records its id in the case data and returns it."""
    case_id, _ = escalation.open_escalation(ctx, county_of(ctx), topic, reason)
    ctx.data["escalation_case_id"] = case_id
    return case_id
