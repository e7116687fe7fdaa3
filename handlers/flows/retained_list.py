"""Guards and actions of workflows/retained_list.yaml: retained-outfall list filing
(需保留排污口清单报送), plan section 三(三): the county-level ecology and environment branch
adds to and removes from its county's list (增补/删减) and, once compiled (汇总), files it with
the city EEB by the plan's date (config/reference/deadlines.yaml ``retained_list_filing``); the
city files it on record (备案), which writes it into the ledger, or returns it. A county that
misses the date is marked late and escalated (督办).

Every code on the list, added or removed is an outfall of the county's own ledger (a refusal at
the JSON path of the bad element otherwise, not saying where the code does lie); an outfall
being banned (依法取缔) or merged (清理合并) cannot be kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import FieldError, InputRefused
from engine.handlers import Context, Registry
from handlers.flows._case import OUTFALL, county_of, open_escalation, put_outfall
from handlers.reference import data as ref

registry = Registry()

LISTS = ("outfalls", "added", "removed")


@registry.action("set_filing_due")
def set_filing_due(ctx: Context) -> None:
    """Unless the case was opened with a due date: the retained list is due on the filing
    deadline of config/reference/deadlines.yaml (``retained_list_filing``) (三(三))."""
    if not ctx.data.get("due"):
        ctx.data["due"] = ref.deadline(ctx.reference, "retained_list_filing")


def _why_not_kept(record: Mapping[str, Any]) -> str | None:
    """Why the outfall cannot stay on a retained list, or None."""
    status = record.get("status", "active")
    mode = record.get("rectification_mode")
    if status == "abolished" or mode == "ban":
        return "is being banned (依法取缔) and cannot be kept"
    if status == "merged" or mode == "merge":
        return "is being merged (清理合并) into another outfall and cannot be kept"
    if status != "active":
        return f"is not in service ({status}) and cannot be kept"
    return None


def _problems(ctx: Context, lists: Mapping[str, Any]) -> list[FieldError]:
    county = county_of(ctx)
    name = ref.jurisdiction_name(ctx.reference, county)
    kept = {str(c) for c in lists.get("outfalls") or []}
    errors: list[FieldError] = []
    for key in LISTS:
        for index, raw in enumerate(lists.get(key) or []):
            code, path = str(raw), f"$.{key}[{index}]"
            record = ctx.ops.get_subject(OUTFALL, code)
            if record is None or record.get("county") != county:
                errors.append(FieldError(path, f"{code} is not an outfall of {name} in the ledger"))
                continue
            why = _why_not_kept(record) if key != "removed" else None
            if why:
                errors.append(FieldError(path, f"{code} {why}"))
            elif key == "added" and code not in kept:
                errors.append(FieldError(path, f"{code} is added but not on the list (outfalls)"))
            elif key == "removed" and code in kept:
                errors.append(FieldError(path, f"{code} is removed but still on the list"))
    return errors


@registry.action("check_retained_list")
def check_retained_list(ctx: Context) -> None:
    """The submitted list, its additions and removals against the county's ledger."""
    errors = _problems(ctx, ctx.payload)
    if errors:
        raise InputRefused("payload", errors)


@registry.action("compile_retained_list")
def compile_retained_list(ctx: Context) -> None:
    """汇总: the county-level EEB compiles the list it files (三(三))."""
    ctx.data["compiled_count"] = len(ctx.data.get("outfalls") or [])
    ctx.data["compiled_by"] = ctx.actor.name


@registry.action("record_submission")
def record_submission(ctx: Context) -> None:
    """The county submitted its retained list for review: the time is recorded (三(三))."""
    ctx.data["submitted_at"] = ctx.now.isoformat()


@registry.action("record_return")
def record_return(ctx: Context) -> None:
    """The retained list was sent back to the county: the reason given is recorded (三(三))."""
    ctx.data["return_reason"] = str(ctx.payload["reason"])


@registry.action("apply_retained_list_to_ledger")
def apply_retained_list_to_ledger(ctx: Context) -> None:
    """备案: checked again (an outfall may have been set to be banned since), then each outfall
    on the list is marked retained in the ledger and each removed one not, naming the list; each
    change is a row of the outfall's history, by the city official who filed it."""
    errors = _problems(ctx, ctx.data)
    if errors:
        raise InputRefused("data", errors)
    marks = [(str(c), True) for c in ctx.data.get("outfalls") or []]
    marks += [(str(c), False) for c in ctx.data.get("removed") or []]
    for code, kept in marks:
        record = ctx.ops.get_subject(OUTFALL, code) or {}
        record.update(retained=kept, retained_list=ctx.subject or "")
        put_outfall(ctx, code, record)


@registry.action("record_filing")
def record_filing(ctx: Context) -> None:
    """The retained list was filed with the higher authority (备案): when and by whom (三(三))."""
    ctx.data["filed_at"] = ctx.now.isoformat()
    ctx.data["filed_by"] = ctx.actor.name


@registry.action("escalate_late_filing")
def escalate_late_filing(ctx: Context) -> None:
    """The filing date passed with the list still in drafting: late, and 督办 the county."""
    ctx.data["late"] = True
    name = ref.jurisdiction_name(ctx.reference, county_of(ctx))
    reason = f"{name}未按期（{ctx.data.get('due', '')}前）报送需保留排污口清单"
    open_escalation(ctx, "retained_list", reason)
