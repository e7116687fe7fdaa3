"""Guards and actions of workflows/retained_list.yaml: retained-outfall list filing
(需保留排污口清单报送), plan section 三(三): each county files its list with the city EEB by the
plan's date (config/reference/deadlines.yaml ``retained_list_filing``); a county
that misses it is marked late and escalated (督办)."""

from __future__ import annotations

from engine.handlers import Context, Registry
from handlers.flows._case import OUTFALL, county_of, open_escalation
from handlers.reference import data as ref

registry = Registry()


@registry.action("set_filing_due")
def set_filing_due(ctx: Context) -> None:
    if not ctx.data.get("due"):
        ctx.data["due"] = ref.deadline(ctx.reference, "retained_list_filing")


@registry.guard("retained_outfalls_in_county")
def retained_outfalls_in_county(ctx: Context) -> bool:
    """Every outfall on the list is in the ledger, in this county, and still in service."""
    county = county_of(ctx)
    for code in ctx.payload.get("outfalls") or []:
        record = ctx.ops.get_subject(OUTFALL, str(code))
        if record is None or record.get("county") != county:
            return False
        if record.get("status", "active") != "active":
            return False
    return True


@registry.action("record_submission")
def record_submission(ctx: Context) -> None:
    ctx.data["submitted_at"] = ctx.now.isoformat()


@registry.action("record_return")
def record_return(ctx: Context) -> None:
    ctx.data["return_reason"] = str(ctx.payload["reason"])


@registry.action("compile_retained_list")
def compile_retained_list(ctx: Context) -> None:
    ctx.data["compiled_count"] = len(ctx.data.get("outfalls") or [])


@registry.action("record_filing")
def record_filing(ctx: Context) -> None:
    ctx.data["filed_at"] = ctx.now.isoformat()


@registry.action("escalate_late_filing")
def escalate_late_filing(ctx: Context) -> None:
    """The filing date passed with the list still in drafting: late, and 督办 the county."""
    ctx.data["late"] = True
    name = ref.jurisdiction_name(ctx.reference, county_of(ctx))
    reason = f"{name}未按期（{ctx.data.get('due', '')}前）报送需保留排污口清单"
    open_escalation(ctx, "retained_list", reason)
