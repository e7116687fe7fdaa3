"""Guards and actions of workflows/setup_change.yaml: the change (变更) and cancellation (注销)
of an outfall already set up (MEE Order No. 35; plan 三(四)2). The authority that approved or
registered it decides, routed as setup approval routes (``setup_approval.route_authority``),
within 20 working days of acceptance (行政许可法 arts. 42, 49); an approval updates the ledger
record (a row of its history by the official, the case as its source) and is published."""

from __future__ import annotations

from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows import setup_approval
from handlers.flows._case import (
    OUTFALL,
    open_escalation,
    outfall_code,
    refuse_another_countys_outfall,
)
from handlers.ledger.record import FIELDS, InvalidOutfall, OutfallNotFound, check_outfall
from handlers.ledger.service import record_setup_in
from handlers.reference import data as ref

registry = Registry()

# Facts of the record a change may alter; the others identify the outfall (code, county), are
# its setup (sub-type, river: 改设 is a new setup approval, kind change) or the flows' own.
CHANGEABLE = frozenset(
    {
        "name",
        "local_code",
        "address",
        "longitude",
        "latitude",
        "entry_mode",
        "responsible_party",
        "responsible_credit_code",
        "water_function_zone",
        "zone_target",
        "discharge_regime",
        "permit_number",
        "supervising_department",
        "limits",
    }
)
MOVES = {"river", "sub_type"}  # changing these is 改设: setup_approval with kind change
EX_OFFICIO = ("banned", "merged")  # 行政许可法 art. 70: the authority cancels
# the authority that decided the setup, back to the EIA level that routes to it
EIA_OF_AUTHORITY = {"basin_bureau": "national", "province": "provincial", "city": "city"}
REGISTRARS = ("approval_bureau", "county_eeb")  # who registered: the county's offices
PARTIES = ("applicant", "discharger")  # who apply for their own outfall only
RESULTS = {("change", True): "准予变更", ("cancel", True): "注销", ("change", False): "不予变更"}
RESULTS[("cancel", False)] = "不予注销"


def _today(ctx: Context) -> str:
    return local_day(ctx.now).isoformat()


# -- the application: an outfall set up and in use, changes it may have, its authority -------


@registry.action("check_change_application")
def check_change_application(ctx: Context) -> None:
    """The outfall is in the county's ledger, in use (active) and was approved or registered;
    a change names only changeable fields and leaves a valid record; a cancellation gives its
    reason, ex officio ones (依法取缔, 清理合并) by the authority only. Then the case goes to
    the authority of the outfall's setup (三(四)2)."""
    code = outfall_code(ctx)
    record = ctx.ops.get_subject(OUTFALL, code)
    _refuse_others_outfall(ctx, record)
    if record is None:
        raise InputRefused.at("data", "$.outfall_code", f"outfall {code} is not in the ledger")
    refuse_another_countys_outfall(ctx)
    if record.get("status", "active") != "active":
        raise InputRefused.at(
            "data", "$.outfall_code", f"outfall {code} is {record.get('status')}, not active"
        )
    basis = record.get("setup_basis")
    if basis not in ("approval", "registration"):
        raise InputRefused.at(
            "data",
            "$.outfall_code",
            f"outfall {code} was never approved or registered (setup basis {basis or 'none'}): "
            "apply for a retroactive permit first (setup_approval, kind retroactive)",
        )
    ctx.data.update(
        sub_type=record["sub_type"], river=record["river"], name=record.get("name", code)
    )
    ctx.data["setup_basis"] = basis
    if ctx.data["kind"] == "change":
        _check_changes(ctx, record)
    else:
        _check_cancellation(ctx)
    _route(ctx, record)


def _refuse_others_outfall(ctx: Context, record: dict[str, Any] | None) -> None:
    """A party (applicant, discharger) applies only for an outfall it is responsible for: the
    record's ``responsible_party`` or the unit its setup approved. Any other code, whether
    another's, unknown, abolished or of another county, gets one neutral refusal, so that a
    party learns nothing of outfalls not its own."""
    if ctx.actor.role not in PARTIES:
        return
    setup = (record or {}).get("setup")
    units = {(record or {}).get("responsible_party")}
    if isinstance(setup, dict):
        units.add(setup.get("discharging_unit"))
    if record is None or ctx.actor.name not in units - {None, ""}:
        raise InputRefused.at(
            "data",
            "$.outfall_code",
            f"no outfall of {ctx.actor.name} with this code can be changed or cancelled",
        )


def _check_changes(ctx: Context, record: dict[str, Any]) -> None:
    changes = ctx.data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise InputRefused.at("data", "$.changes", "a change names the fields it changes")
    errors = []
    for name in changes:
        if name in MOVES:
            errors.append(
                FieldError(
                    f"$.changes.{name}",
                    f"{name} cannot be changed here: 改设 is a setup approval (kind change)",
                )
            )
        elif name not in CHANGEABLE:
            errors.append(FieldError(f"$.changes.{name}", f"{name} is not a changeable field"))
    if not errors:
        merged = {k: v for k, v in {**record, **changes}.items() if k in FIELDS}
        errors = [
            FieldError(f"$.changes.{e.json_path[2:]}", e.message)
            for e in check_outfall(ctx.reference, merged)
        ]
    if errors:
        raise InputRefused("data", errors)


def _check_cancellation(ctx: Context) -> None:
    reason = ctx.data.get("cancel_reason")
    if reason is None:
        raise InputRefused.at("data", "$.cancel_reason", "a cancellation gives its reason")
    if "changes" in ctx.data:
        raise InputRefused.at("data", "$.changes", "a cancellation changes no field")
    ctx.data["ex_officio"] = reason in EX_OFFICIO
    if ctx.data["ex_officio"] and ctx.actor.role == "applicant":
        raise Refused(
            f"a cancellation because the outfall was {reason} is the authority's (依职权注销)"
        )


def _route(ctx: Context, record: dict[str, Any]) -> None:
    """Registered outfalls go back to the county's registration office; approved ones are
    routed as setup approval routes them, from the EIA level of the original decision."""
    if ctx.data["setup_basis"] == "registration":
        ctx.data["authority"] = "registration"
        ctx.data.pop("authority_department", None)
        return
    setup = record.get("setup") if isinstance(record.get("setup"), dict) else {}
    if setup.get("authority"):
        # the ledger records who decided the setup: that routes it, not the caller
        level = EIA_OF_AUTHORITY.get(str(setup["authority"]), "county")
        given = ctx.data.get("eia_level")
        if given is not None and given != level:
            raise InputRefused.at(
                "data",
                "$.eia_level",
                "the ledger records the authority that decided this outfall's setup: "
                "leave eia_level out",
            )
        ctx.data["eia_level"] = level
    elif "eia_level" not in ctx.data:
        ctx.data["eia_level"] = "county"
    setup_approval.route_authority(ctx)


# -- who decides ------------------------------------------------------------------------------


@registry.guard("actor_decides_change")
def actor_decides_change(ctx: Context) -> bool:
    """Only the authority the case was routed to (that of the setup) accepts and decides:
    for a registered outfall the county's registration office (approval bureau or EEB branch
    of the county, the engine checking the jurisdiction), else as ``actor_is_authority`` of
    setup approval."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    if ctx.data.get("authority") == "registration":
        return ctx.actor.role in REGISTRARS
    return setup_approval.actor_is_authority(ctx)


# -- the clock ----------------------------------------------------------------------------------


@registry.action("record_change_acceptance")
def record_change_acceptance(ctx: Context) -> None:
    """Accepted (受理): the 20 working days for deciding count from today (art. 42)."""
    setup_approval.record_acceptance(ctx)


@registry.action("record_change_deemed_acceptance")
def record_change_deemed_acceptance(ctx: Context) -> None:
    """No notice within 5 working days: accepted (行政许可法 art. 32)."""
    setup_approval.record_deemed_acceptance(ctx)


@registry.action("escalate_overdue_change")
def escalate_overdue_change(ctx: Context) -> None:
    """The limit for deciding passed: the case is marked overdue and a 督办 case (四(三)) is
    opened against the outfall's county about it (topic ``setup_change``), once."""
    setup_approval.mark_overdue(ctx)
    what = "注销" if ctx.data.get("kind") == "cancel" else "变更"
    reason = f"排污口{outfall_code(ctx)}{what}申请逾期未决定（{ctx.data.get('overdue_limit', '')}）"
    open_escalation(ctx, "setup_change", reason)


# -- the decision, its publication, the ledger ------------------------------------------------


@registry.action("record_change_decision")
def record_change_decision(ctx: Context) -> None:
    """The decision's 文号 as the official entered it, and the day."""
    setup_approval.record_decision_number(ctx)


@registry.action("record_change_rejection")
def record_change_rejection(ctx: Context) -> None:
    """Refused after review: the reason for the decision letter."""
    setup_approval.record_rejection(ctx)


@registry.action("publish_change_decision")
def publish_change_decision(ctx: Context) -> None:
    """What the public column shows (审批备案信息依法公开, 三(四)2): the result, 文号, day,
    outfall, authority; the changed fields by name (not the values of the credit code)."""
    kind = str(ctx.data["kind"])
    record = ctx.ops.get_subject(OUTFALL, outfall_code(ctx)) or {}
    found = ref.river(ctx.reference, str(ctx.data.get("river", "")))
    publication: dict[str, Any] = {
        "result": RESULTS[(kind, ctx.dest == "approved")],
        "decision_number": ctx.data.get("decision_number"),
        "decided_on": ctx.data.get("decided_on"),
        "outfall_code": outfall_code(ctx),
        "outfall_name": ctx.data.get("name"),
        "river": str(found["name"]) if found else ctx.data.get("river"),
        "county": ref.jurisdiction_name(ctx.reference, str(ctx.data.get("county"))),
        "authority": _authority_name(ctx),
        "published_at": ctx.now.isoformat(),
    }
    if record.get("setup_basis") == "approval" and record.get("responsible_party"):
        publication["discharging_unit"] = record["responsible_party"]  # an approved unit
    if kind == "change":
        publication["changed"] = sorted(ctx.data.get("changes") or {})
    else:
        publication["cancel_reason"] = ctx.data.get("cancel_reason")
        publication["ex_officio"] = bool(ctx.data.get("ex_officio"))
    ctx.data["published_at"] = publication["published_at"]
    ctx.data["publication"] = publication


def _authority_name(ctx: Context) -> str:
    if ctx.data.get("authority") == "registration":
        county = ref.jurisdiction_name(ctx.reference, str(ctx.data.get("county")))
        return f"{county}入河排污口登记部门"
    return setup_approval.authority_name(ctx)


@registry.action("apply_change_to_ledger")
def apply_change_to_ledger(ctx: Context) -> None:
    """The approved change is in the record; a cancellation sets ``status: cancelled`` with
    ``cancelled_on`` and ``cancellation_decision``. One row of the outfall's history by the
    deciding official; the case is its source (``setup_change``)."""
    number, on = str(ctx.data["decision_number"]), str(ctx.data["decided_on"])
    if ctx.data["kind"] == "change":
        changes: dict[str, Any] = dict(ctx.data.get("changes") or {})
    else:
        changes = {"status": "cancelled", "cancelled_on": on, "cancellation_decision": number}
    changes["setup_change"] = {
        "case_id": ctx.case_id,
        "kind": ctx.data["kind"],
        "decision_number": number,
        "decided_on": on,
    }
    try:
        record_setup_in(ctx.ops, ctx.reference, outfall_code(ctx), changes, new=False)
    except InvalidOutfall as exc:  # the record changed since the application
        raise InputRefused("data", exc.errors) from exc
    except OutfallNotFound as exc:
        raise Refused(str(exc)) from exc
