"""Guards and actions of workflows/screening.yaml: a county's screening round (动态排查, plan
三(一): 有口皆查、应查尽查, 全域覆盖, 新增排污口动态清零).

The round's sections are the county's river sections (config/reference/river_sections.yaml,
``ref.river_sections``), snapshot when it opens. The county EEB records each section it screened
(``record_screened_section``): a section of another county or none is refused at
``$.section``. New outfalls found: a code in the county's own ledger is recorded as found (the
ledger's ``found_at`` stays as it is); a code not in the ledger is listed in ``to_add`` (to be
recorded with ``qingliu ledger add``); a code in another county's ledger is refused at its path.
Submitting records the sections not screened; the city confirms or returns the round. A round
still open on its due day (default: the year's 31 December; only the city may set another, a
county's ``due`` is refused) is marked overdue and its county escalated (督办, topic
``screening``). The subject is ``<county>:<year>``; a section's date lies in the round's year and
not after today.
"""

from __future__ import annotations

from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import FieldError, InputRefused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows._case import OUTFALL, county_of, open_escalation
from handlers.reference import data as ref

__all__ = ["registry", "screened_sections"]

registry = Registry()

DUE_SETTERS = (ADMIN, SYSTEM, "eeb_city", "eeb_province")  # who may set a round's due day


def screened_sections(data: dict[str, Any]) -> list[str]:
    """The sections the round's records cover, in record order."""
    seen: list[str] = []
    for record in data.get("records") or []:
        if record["section"] not in seen:
            seen.append(str(record["section"]))
    return seen


@registry.action("set_screening_scope")
def set_screening_scope(ctx: Context) -> None:
    """The round's due day (default: the year's end) and its sections (the county's river
    sections of the reference data, as of the round's opening). The subject is
    ``<county>:<year>``; a due day other than the default is the city's to set."""
    subject = f"{ctx.data['county']}:{int(ctx.data['year'])}"
    if ctx.subject != subject:
        raise InputRefused.at("data", "$.subject", f"the subject of this round is {subject}")
    if ctx.data.get("due") and ctx.actor.role not in DUE_SETTERS:
        raise InputRefused.at(
            "data", "$.due", "the due day is set by the city (default: 31 December of the year)"
        )
    if not ctx.data.get("due"):
        ctx.data["due"] = f"{int(ctx.data['year'])}-12-31"
    if "sections" not in ctx.data:
        ctx.data["sections"] = [
            str(s["code"]) for s in ref.river_sections(ctx.reference, county=county_of(ctx))
        ]


def _new_outfalls(ctx: Context) -> tuple[list[str], list[str]]:
    """(codes in the county's ledger, codes not in any ledger) of the payload's new outfalls."""
    county = county_of(ctx)
    name = ref.jurisdiction_name(ctx.reference, county)
    found: list[str] = []
    missing: list[str] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(ctx.payload.get("new_outfalls") or []):
        code = str(raw)
        owner = ctx.ops.owner_of(OUTFALL, code)
        if owner is None:
            missing.append(code)
        elif owner != county:
            message = f"{code} is in the ledger of another county, not of {name}"
            errors.append(FieldError(f"$.new_outfalls[{index}]", message))
        else:
            found.append(code)
    if errors:
        raise InputRefused("payload", errors)
    return found, missing


@registry.action("record_screened_section")
def record_screened_section(ctx: Context) -> None:
    """One section screened: its date, the screeners and the new outfalls found (三(一))."""
    section = str(ctx.payload["section"])
    county = county_of(ctx)
    if section not in (ctx.data.get("sections") or []):
        name = ref.jurisdiction_name(ctx.reference, county)
        raise InputRefused.at("payload", "$.section", f"{section} is not a river section of {name}")
    day = str(ctx.payload["date"])
    today = local_day(ctx.now).isoformat()
    if day > today:
        raise InputRefused.at("payload", "$.date", f"{day} is after today ({today})")
    year = str(int(ctx.data["year"]))
    if not day.startswith(f"{year}-"):
        raise InputRefused.at("payload", "$.date", f"{day} is not in the round's year {year}")
    found, missing = _new_outfalls(ctx)
    record: dict[str, Any] = {
        "section": section,
        "date": day,
        "screeners": [str(s) for s in ctx.payload["screeners"]],
        "new_outfalls": [*found, *missing],
        "by": ctx.actor.name,
        "at": ctx.now.isoformat(),
    }
    if ctx.payload.get("note"):
        record["note"] = str(ctx.payload["note"])
    ctx.data["records"] = [*(ctx.data.get("records") or []), record]
    in_ledger = ctx.data.get("found_in_ledger") or []
    ctx.data["found_in_ledger"] = [*in_ledger, *(c for c in found if c not in in_ledger)]
    to_add = ctx.data.get("to_add") or []
    ctx.data["to_add"] = [*to_add, *(c for c in missing if c not in to_add)]


@registry.action("stamp_screening_submission")
def stamp_screening_submission(ctx: Context) -> None:
    """Submitted: when, and the sections not screened (全域覆盖 or not)."""
    done = set(screened_sections(ctx.data))
    ctx.data["unscreened"] = [s for s in ctx.data.get("sections") or [] if s not in done]
    ctx.data["submitted_at"] = ctx.now.isoformat()


@registry.action("stamp_screening_confirmed")
def stamp_screening_confirmed(ctx: Context) -> None:
    """The city confirmed the round: when and by whom."""
    ctx.data["confirmed_at"] = ctx.now.isoformat()
    ctx.data["confirmed_by"] = ctx.actor.name


@registry.action("record_screening_return")
def record_screening_return(ctx: Context) -> None:
    """The city returned the round to screen more: its reason."""
    ctx.data["return_reason"] = str(ctx.payload["reason"])


@registry.action("escalate_late_screening")
def escalate_late_screening(ctx: Context) -> None:
    """The due day passed with the round not submitted: overdue, and the county escalated."""
    ctx.data["overdue"] = True
    ctx.data["overdue_at"] = ctx.now.isoformat()
    year = ctx.data.get("year")
    open_escalation(ctx, "screening", f"{year}年排污口动态排查逾期未报送（案件 {ctx.case_id}）")
