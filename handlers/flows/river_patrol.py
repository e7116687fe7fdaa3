"""Guards and actions of workflows/river_patrol.yaml: a river chief's or grid inspector's
patrol of a river section (巡河, 河湖长制, plan 三(四)5 and 三(四)3).

The patrol is of a section of the case's county (``river_sections.yaml``), one record per
section and day (subject ``<section>:<date>``); each outfall passed must be in the ledger on
that section's river and county. Submitting closes the patrol and opens, in the same
transaction, one notice (``patrol_notice``) per problem found, to the department the 四(二)
matrix names for the outfall's sub-type.
"""

from __future__ import annotations

from typing import Any

from engine.errors import InputRefused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows.patrol_notice import department_for
from handlers.reference import data as ref

__all__ = ["problems", "registry"]

registry = Registry()

OUTFALL = "outfall"


def _section(ctx: Context) -> dict[str, Any]:
    code = str(ctx.data["section"])
    found = next((s for s in ref.river_sections(ctx.reference) if s.get("code") == code), None)
    if found is None:
        raise InputRefused.at(
            "data", "$.section", f"{code!r} is not in config/reference/river_sections.yaml"
        )
    if found.get("county") != ctx.data["county"]:
        raise InputRefused.at(
            "data",
            "$.section",
            f"{found.get('name', code)} is a section of {found.get('county')}, "
            f"not of {ctx.data['county']}",
        )
    return found


def _check_outfall(ctx: Context, section: dict[str, Any], entry: Any, path: str) -> None:
    """An outfall passed is in the ledger, on the section's river and county; a failed check
    says what the problem is."""
    code = str(entry["outfall_code"])
    record = ctx.ops.get_subject(OUTFALL, code)
    where = f"{section.get('name', section['code'])}（{section['river']}，{section['county']}）"
    if record is None:
        raise InputRefused.at(
            "data", f"{path}.outfall_code", f"outfall {code} is not in the ledger"
        )
    if record.get("river") != section["river"] or record.get("county") != section["county"]:
        raise InputRefused.at(
            "data",
            f"{path}.outfall_code",
            f"outfall {code} is on {record.get('river')} in {record.get('county')}, "
            f"not on the patrolled section {where}",
        )
    failed = [k for k, ok in (entry.get("checks") or {}).items() if ok is False]
    if failed and not entry.get("problem"):
        raise InputRefused.at(
            "data", f"{path}.problem", f"checks {', '.join(failed)} failed: describe the problem"
        )


def problems(outfalls: list[Any]) -> list[dict[str, Any]]:
    """The entries that found a problem: a problem described, or a check failed."""
    return [
        dict(e)
        for e in outfalls
        if e.get("problem") or any(ok is False for ok in (e.get("checks") or {}).values())
    ]


def _refuse_twice(seen: set[str], entry: Any, location: str, path: str) -> None:
    """An outfall is recorded once per patrol (the count of outfalls checked is of outfalls)."""
    code = str(entry["outfall_code"])
    if code in seen:
        raise InputRefused.at(
            location,
            path,
            f"outfall {code} is already recorded on this patrol: describe "
            "everything found there in one entry",
        )
    seen.add(code)


@registry.action("check_patrol")
def check_patrol(ctx: Context) -> None:
    """The patrol is of a section of its county, the subject is ``<section>:<date>``, and every
    outfall recorded so far is on that section (422 at its path otherwise)."""
    section = _section(ctx)
    expected = f"{section['code']}:{ctx.data['date']}"
    if ctx.subject is not None and ctx.subject != expected:
        raise InputRefused.at("data", "$.subject", f"the subject of this patrol is {expected}")
    if str(ctx.data["date"]) > local_day(ctx.now).isoformat():
        raise InputRefused.at(
            "data", "$.date", f"the patrol date {ctx.data['date']} is in the future"
        )
    seen: set[str] = set()
    for i, entry in enumerate(ctx.data.get("outfalls") or []):
        _check_outfall(ctx, section, entry, f"$.outfalls[{i}]")
        _refuse_twice(seen, entry, "data", f"$.outfalls[{i}].outfall_code")
    ctx.data["section_name"] = str(section.get("name") or section["code"])
    ctx.data["river"] = str(section["river"])
    ctx.data["patroller"] = ctx.actor.name
    ctx.data["patroller_role"] = ctx.actor.role


@registry.action("add_outfall_check")
def add_outfall_check(ctx: Context) -> None:
    """One more outfall passed on the way, checked as those given at the start."""
    outfalls = list(ctx.data.get("outfalls") or [])
    _check_outfall(ctx, _section(ctx), ctx.payload, "$")
    seen = {str(e["outfall_code"]) for e in outfalls}
    _refuse_twice(seen, ctx.payload, "payload", "$.outfall_code")
    outfalls.append(dict(ctx.payload))
    ctx.data["outfalls"] = outfalls


@registry.action("issue_notices")
def issue_notices(ctx: Context) -> None:
    """The patrol is submitted: each problem (an outfall is recorded once per patrol) becomes
    its own notice to the outfall's supervising department (四(二)), opened in this
    transaction, even when a notice of an earlier patrol on the outfall is still open; the
    counts are recorded."""
    outfalls = list(ctx.data.get("outfalls") or [])
    found = problems(outfalls)
    notices: list[dict[str, Any]] = []
    for entry in found:
        code = str(entry["outfall_code"])
        record = ctx.ops.get_subject(OUTFALL, code) or {}
        department = department_for(ctx.reference, str(record.get("sub_type") or ""))
        failed = sorted(k for k, ok in (entry.get("checks") or {}).items() if ok is False)
        text = str(entry.get("problem") or "")
        data: dict[str, Any] = {
            "outfall_code": code,
            "county": ctx.data["county"],
            "department": department,
            "problem": text or "、".join(failed),
            "failed_checks": failed,
            "section": ctx.data["section"],
            "patrol_date": ctx.data["date"],
            "patrol_case_id": ctx.case_id,
            "river_chief": ctx.actor.name,
        }
        if entry.get("photos"):
            data["photos"] = list(entry["photos"])
        case_id = ctx.ops.open_case("patrol_notice", data, subject=code)
        notices.append({"outfall_code": code, "department": department, "case_id": case_id})
    ctx.data["outfalls_checked"] = len(outfalls)
    ctx.data["problems_found"] = len(found)
    ctx.data["notices"] = notices
    ctx.data["submitted_at"] = ctx.now.isoformat()
