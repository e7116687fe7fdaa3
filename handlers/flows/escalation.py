"""Guards and actions of workflows/escalation.yaml, the 督办 ladder: 通报 → 预警 → 约谈 →
挂牌督办 → 摘牌.

A case is aimed at a jurisdiction or a department (``data.target``) about one topic; its
subject is ``target:topic``, so one unit has at most one open escalation per topic. Other flows
open one with ``open_escalation`` (for their county: ``handlers.flows._case.open_escalation``),
which reuses the open case if there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from engine.errors import InputRefused
from engine.handlers import Context, Registry
from handlers.dates import add_days, add_months, local_day
from handlers.reference import data as ref

__all__ = [
    "INTERVIEW_REPORT_DAYS",
    "LISTING_MONTHS",
    "MAX_LISTING_MONTHS",
    "RUNGS",
    "escalation_data",
    "escalation_subject",
    "open_escalation",
    "registry",
]

registry = Registry()

RUNGS = {
    "notice": "通报",
    "warning": "预警",
    "interview": "约谈",
    "supervised_listing": "挂牌督办",
    "closed": "已办结",
}
LISTING_MONTHS = 6  # 挂牌督办: enterprise cases commonly six months ...
MAX_LISTING_MONTHS = 12  # ... at most about a year, extensions included
INTERVIEW_REPORT_DAYS = 30  # the unit's written report after the interview


def escalation_subject(target: str, topic: str) -> str:
    return f"{target}:{topic}"


def _jurisdiction_of(reference: Mapping[str, Any], target: str) -> str | None:
    """A jurisdiction target is its own jurisdiction; a department belongs to the jurisdiction
    of its level (city departments to the city), so that level's actors see the case."""
    if ref.jurisdiction(reference, target) is not None:
        return target
    dept = ref.department(reference, target)
    level = dept.get("level") if dept else None
    return next((j["code"] for j in ref.jurisdictions(reference) if j.get("level") == level), None)


def escalation_data(
    reference: Mapping[str, Any],
    target: str,
    topic: str,
    reason: str,
    source_case_id: int | None = None,
    source_workflow: str | None = None,
) -> dict[str, Any]:
    """The data of a new escalation case; ``county`` (the case's jurisdiction field) is the
    target's jurisdiction: the target itself, or the city for a city department."""
    data: dict[str, Any] = {"target": target, "topic": topic, "reason": reason}
    jurisdiction = _jurisdiction_of(reference, target)
    if jurisdiction is not None:
        data["county"] = jurisdiction
    if source_case_id is not None:
        data["source_case_id"] = source_case_id
    if source_workflow is not None:
        data["source_workflow"] = source_workflow
    return data


def open_escalation(ctx: Context, target: str, topic: str, reason: str) -> tuple[int, bool]:
    """Open the escalation of ``target`` about ``topic`` from the running case, or find the
    open one: ``(case_id, opened)``."""
    data = escalation_data(ctx.reference, target, topic, reason, ctx.case_id, ctx.workflow)
    return ctx.ops.open_case_if_absent("escalation", data, escalation_subject(target, topic))


@registry.guard("actor_is_target")
def actor_is_target(ctx: Context) -> bool:
    """Only the unit the ladder is aimed at answers it: a county actor of the target county,
    or the target department's own role."""
    target = str(ctx.data.get("target"))
    actor = ctx.actor
    return actor.role in ("admin", target) or (
        actor.role in ("county_gov", "county_eeb") and actor.jurisdiction == target
    )


def _climb(ctx: Context, rung: str) -> None:
    """Record reaching ``rung`` (once: the states of one rung share it)."""
    if ctx.data.get("rung") == rung:
        return
    ctx.data["rung"] = rung
    ctx.data["rung_title"] = RUNGS[rung]
    ctx.data.setdefault("ladder", []).append(
        {
            "rung": rung,
            "state": ctx.dest,
            "at": ctx.now.isoformat(),
            "by": ctx.actor.name,
            "trigger": ctx.trigger,
        }
    )


@registry.action("rung_notice")
def rung_notice(ctx: Context) -> None:
    """The ladder starts at 通报 (public notice): the rung and the step (who, when, why) are
    recorded in ``ladder`` (四(三))."""
    _climb(ctx, "notice")


@registry.action("rung_warning")
def rung_warning(ctx: Context) -> None:
    """The ladder climbs to 预警 (warning): the rung and the step (who, when, why) are
    recorded in ``ladder`` (四(三))."""
    _climb(ctx, "warning")


@registry.action("rung_interview")
def rung_interview(ctx: Context) -> None:
    """The ladder climbs to 约谈 (interview of the unit's leaders): the rung and the step
    (who, when, why) are recorded in ``ladder`` (四(三))."""
    _climb(ctx, "interview")


@registry.action("rung_supervised_listing")
def rung_supervised_listing(ctx: Context) -> None:
    """The ladder climbs to 挂牌督办 (listed for supervision): the rung and the step (who, when,
    why) are recorded in ``ladder`` (四(三))."""
    _climb(ctx, "supervised_listing")


@registry.action("rung_closed")
def rung_closed(ctx: Context) -> None:
    """The ladder ends (摘牌/结案): the case's current rung becomes closed and the step is added
    to ``ladder`` with who and when (四(三))."""
    _climb(ctx, "closed")


# -- 视情 (四(三)): the schedule proposes the next rung, the city confirms or skips it ------------

NEXT_RUNG = {"warning_proposed": "warning", "interview_proposed": "interview"}
NEXT_RUNG["listing_proposed"] = "supervised_listing"


@registry.action("propose_rung")
def propose_rung(ctx: Context) -> None:
    """The current rung's response period ran out unanswered: propose the next rung to the
    city (``data.proposal``); nothing climbs until a city official decides.

    ``proposed_at`` is ``ctx.now``, the firing's logical time: the timer's due time, also
    after a scheduler outage (docs/timers.md, "Logical time of a firing"). Rungs never
    collapse: each needs its own confirmation, and the next rung's response period counts
    from that."""
    rung = NEXT_RUNG[str(ctx.dest)]
    ctx.data["proposal"] = {
        "rung": rung,
        "title": RUNGS[rung],
        "from_rung": ctx.data.get("rung"),
        "reason": str(ctx.payload.get("reason") or ""),
        "proposed_at": ctx.now.isoformat(),
    }


def _settle(ctx: Context, outcome: str, **extra: Any) -> None:
    """Close the pending proposal, if any, into ``data.proposals`` with the city's decision."""
    proposal = ctx.data.pop("proposal", None)
    if not proposal:
        return
    entry = {
        **proposal,
        "outcome": outcome,
        **extra,
        "decided_by": ctx.actor.name,
        "role": ctx.actor.role,
        "decided_at": ctx.now.isoformat(),
    }
    ctx.data["proposals"] = [*(ctx.data.get("proposals") or []), entry]


@registry.action("confirm_proposal")
def confirm_proposal(ctx: Context) -> None:
    """The city confirms the proposed rung: it is served now (the rung's on_enter records it)."""
    decision = ctx.payload.get("decision")
    _settle(ctx, "confirmed", **({"decision": str(decision)} if decision else {}))


@registry.action("skip_proposal")
def skip_proposal(ctx: Context) -> None:
    """The city does not climb, with its reason: the unit stays on its rung, and a new response
    period counts from this decision (the rung's timer is armed again on re-entry)."""
    _settle(ctx, "skipped", reason=str(ctx.payload["reason"]))


@registry.action("record_decision")
def record_decision(ctx: Context) -> None:
    """视情: the city's decision to climb (or skip rungs), with its reason; a pending proposal
    is superseded by it."""
    _settle(ctx, "superseded", decision=str(ctx.payload.get("decision") or ""))
    ctx.data.setdefault("decisions", []).append(
        {
            "to": ctx.payload.get("escalate_to"),
            "from_state": ctx.source,
            "decision": ctx.payload.get("decision"),
            "by": ctx.actor.name,
            "role": ctx.actor.role,
            "at": ctx.now.isoformat(),
        }
    )


@registry.action("set_report_due")
def set_report_due(ctx: Context) -> None:
    """After the minutes, the unit owes a written report within 30 days."""
    due = add_days(local_day(ctx.now), INTERVIEW_REPORT_DAYS)
    ctx.data["report_due"] = due.isoformat()


@registry.action("set_listing_deadline")
def set_listing_deadline(ctx: Context) -> None:
    """挂牌: the listing runs ``listing_months`` (default 6) from today."""
    months = int(ctx.data.get("listing_months") or LISTING_MONTHS)
    today = local_day(ctx.now)
    ctx.data["listed_at"] = today.isoformat()
    ctx.data["listing_months"] = months
    ctx.data["listing_deadline"] = add_months(today, months).isoformat()


@registry.action("record_extension_request")
def record_extension_request(ctx: Context) -> None:
    """The unit under 挂牌督办 asks for more time: the request (months, reason, who, when) is
    added to ``extension_requests`` for the decider (四(三))."""
    ctx.data.setdefault("extension_requests", []).append(
        {
            "months": ctx.payload.get("months"),
            "reason": ctx.payload.get("reason"),
            "by": ctx.actor.name,
            "at": ctx.now.isoformat(),
        }
    )


@registry.action("extend_listing")
def extend_listing(ctx: Context) -> None:
    """Grant an extension: the deadline moves by ``months``, never past a year in all."""
    months = int(ctx.payload["months"])
    total = int(ctx.data.get("listing_months") or LISTING_MONTHS) + months
    if total > MAX_LISTING_MONTHS:
        raise InputRefused.at(
            "payload",
            "$.months",
            f"a listing runs at most {MAX_LISTING_MONTHS} months; {total} asked "
            f"({ctx.data.get('listing_months')} + {months})",
        )
    listed = date.fromisoformat(str(ctx.data["listed_at"]))
    ctx.data["listing_months"] = total
    ctx.data["listing_deadline"] = add_months(listed, total).isoformat()
    ctx.data["listing_overdue"] = False
    ctx.data.setdefault("extensions", []).append(
        {"months": months, "by": ctx.actor.name, "at": ctx.now.isoformat()}
    )


@registry.action("flag_listing_overdue")
def flag_listing_overdue(ctx: Context) -> None:
    """The 挂牌督办 period ended and the listing is not lifted: the case is marked overdue
    (``listing_overdue``), with the time (四(三))."""
    ctx.data["listing_overdue"] = True
    ctx.data["listing_overdue_at"] = ctx.now.isoformat()


@registry.action("stamp_closed")
def stamp_closed(ctx: Context) -> None:
    """The escalation is over: when it closed and how (the final state: ``outcome``) are
    recorded (四(三))."""
    ctx.data["closed_at"] = ctx.now.isoformat()
    ctx.data["outcome"] = ctx.dest
