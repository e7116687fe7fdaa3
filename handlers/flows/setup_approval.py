"""Guards and actions of workflows/setup_approval.yaml: setup approval and registration
(设置审批/登记), plan section 三(四)2: the authority by the receiving river and the project's EIA
level, the water-function zone rule, the statutory clock of the 行政许可法 (arts. 32, 42, 45),
the decision 文号 the official enters, publication, and the ledger entry the decision writes."""

from __future__ import annotations

from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows._case import OUTFALL, refuse_another_countys_outfall
from handlers.ledger.record import InvalidOutfall, OutfallExists, OutfallNotFound
from handlers.ledger.service import record_setup_in
from handlers.reference import data as ref

registry = Registry()

# The role that decides for each authority; city and county both act through an approval bureau
# whose jurisdiction must cover the case (checked by the engine's scope).
AUTHORITY_ROLE = {
    "basin_bureau": "basin_bureau",
    "province": "eeb_province",
    "city": "approval_bureau",
    "county": "approval_bureau",
}
# The department of departments.yaml that decides, where there is one department for the level.
AUTHORITY_DEPARTMENT = {"province": "eeb_province", "city": "approval_city"}
# City and county approval bureaus share a role; the level of the actor's jurisdiction tells
# them apart (an actor without a jurisdiction is not narrowed).
AUTHORITY_LEVELS = {"city": ("city",), "county": ref.COUNTY_LEVELS, "province": ("province",)}
KINDS_OF_EXISTING = ("change", "enlarge", "retroactive")  # 改设、扩大、补办: outfalls in the ledger
# facts of the application the ledger record takes on approval or registration, if given
LEDGER_FACTS = ("permit_number", "water_function_zone", "zone_target")
RESULTS = {"approved": "批准", "rejected": "不予许可", "registered": "登记"}


def _today(ctx: Context) -> str:
    return local_day(ctx.now).isoformat()


# -- acceptance: the application goes to the authority of its river and its EIA level ----------


@registry.action("route_authority")
def route_authority(ctx: Context) -> None:
    """Plan 三(四)2, first match wins: national EIA, or a receiving river in a basin bureau's
    approval scope (rivers.yaml ``basin_scope``) → that basin bureau; provincial EIA or an
    inter-city dispute → 省生态环境厅; city / county EIA → city / county; no EIA (依法不需要编制
    环评) → the 县级以上 approval department that accepts it, or the basin body."""
    river = str(ctx.data.get("river", ""))
    found = ref.river(ctx.reference, river)
    if found is None:
        raise InputRefused.at("data", "$.river", f"unknown river {river!r} (rivers.yaml)")
    in_scope = ref.basin_bureau_for(ctx.reference, river)
    ctx.data["basin_scope"] = in_scope is not None
    eia = ctx.data.get("eia_level")
    if in_scope is not None or eia == "national" or _basin_body_accepts(ctx):
        authority = "basin_bureau"
    elif eia == "provincial" or ctx.data.get("dispute") is True:
        authority = "province"
    elif eia in ("city", "county"):
        authority = str(eia)
    else:
        authority = _accepting_level(ctx)
    ctx.data["authority"] = authority
    department = (
        in_scope or ref.bureau_of_basin(ctx.reference, found.get("basin"))
        if authority == "basin_bureau"
        else AUTHORITY_DEPARTMENT.get(authority)
    )
    if department is not None:
        ctx.data["authority_department"] = department
    else:
        ctx.data.pop("authority_department", None)


def _basin_body_accepts(ctx: Context) -> bool:
    """No EIA: 流域管理机构 may take the application (三(四)2)."""
    return ctx.data.get("eia_level") == "none" and ctx.actor.role == "basin_bureau"


def _accepting_level(ctx: Context) -> str:
    """The level of the approval department that accepted an application without an EIA;
    the county when no department accepted it (deemed acceptance) or the actor has none."""
    if ctx.actor.role == "eeb_province":
        return "province"
    where = ctx.actor.jurisdiction
    if where is not None and ref.level_of(ctx.reference, where) == "city":
        return "city"
    return "county"


@registry.action("record_receipt")
def record_receipt(ctx: Context) -> None:
    """The day the (complete) materials were received: the 5 working days of art. 32 run from
    it, and a deemed acceptance dates from it."""
    ctx.data["received_on"] = _today(ctx)


@registry.action("record_acceptance")
def record_acceptance(ctx: Context) -> None:
    """The authority accepted the application (受理): the day is recorded, and the statutory
    limit for deciding counts from it (行政许可法 art. 42; 三(四)2)."""
    ctx.data["acceptance"] = {"deemed": False, "accepted_on": _today(ctx)}
    ctx.data["limit_counted_from"] = "acceptance"
    ctx.data["review_extended"] = False


@registry.action("record_deemed_acceptance")
def record_deemed_acceptance(ctx: Context) -> None:
    """行政许可法 art. 32: no completeness notice within 5 working days: accepted on receipt.
    After a notice, the completed materials had to be accepted; silence then counts from the
    deemed moment (the notice cancelled the from-receipt limit)."""
    noticed = "completeness_notice" in ctx.data
    on = _today(ctx) if noticed else str(ctx.data.get("received_on") or _today(ctx))
    ctx.data["acceptance"] = {"deemed": True, "accepted_on": on}
    ctx.data["limit_counted_from"] = "acceptance" if noticed else "receipt"
    ctx.data["review_extended"] = False


@registry.action("record_completeness_notice")
def record_completeness_notice(ctx: Context) -> None:
    """The application is incomplete: the notice of what is missing (一次性告知, 行政许可法 art. 32)
    is recorded with the list of missing items and the day (三(四)2)."""
    items = [str(i) for i in ctx.payload["missing_items"]]
    ctx.data["missing_items"] = items
    ctx.data["completeness_notice"] = {"missing_items": items, "on": _today(ctx)}


# -- who may act --------------------------------------------------------------------------------


def _at_level(ctx: Context, authority: str) -> bool:
    levels = AUTHORITY_LEVELS.get(authority)
    if authority == "basin_bureau":
        return ctx.actor.jurisdiction is None
    if levels is None or ctx.actor.jurisdiction is None:
        return True
    return ref.level_of(ctx.reference, ctx.actor.jurisdiction) in levels


@registry.guard("actor_is_authority")
def actor_is_authority(ctx: Context) -> bool:
    """Only the authority the application was routed to reviews and decides it."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    authority = str(ctx.data.get("authority"))
    if ctx.actor.role != AUTHORITY_ROLE.get(authority):
        return False
    if authority == "basin_bureau":
        return not _another_basin_bureau(ctx)
    return _at_level(ctx, authority)


def _another_basin_bureau(ctx: Context) -> bool:
    """The basin bureaus share a role: an actor named as one of them (departments.yaml, with
    or without the 生态环境部 prefix) that is not the routed one does not decide."""
    routed = str(ctx.data.get("authority_department") or "")
    for code in {ref.bureau_of_basin(ctx.reference, b) for b in _basin_codes(ctx)} - {routed}:
        found = ref.department(ctx.reference, str(code)) if code else None
        name = str(found["name"]) if found else ""
        if name and ctx.actor.name in (name, name.removeprefix("生态环境部")):
            return True
    return False


def _basin_codes(ctx: Context) -> list[str]:
    basins = (ctx.reference.get("rivers") or {}).get("basins") or []
    return [str(b.get("code")) for b in basins if isinstance(b, dict)]


@registry.guard("actor_heads_the_authority")
def actor_heads_the_authority(ctx: Context) -> bool:
    """行政许可法 art. 42: the head of the office the application was routed to extends."""
    if ctx.actor.role in (ADMIN, SYSTEM):
        return True
    return _at_level(ctx, str(ctx.data.get("authority")))


@registry.guard("needs_approval")
def needs_approval(ctx: Context) -> bool:
    """The outfall's sub-type needs approval (审批): enterprise, park WWTP and urban WWTP
    outfalls (MEE Order No. 35; ``approval_required`` in config/reference/outfall_types.yaml)."""
    return ref.approval_required(ctx.reference, str(ctx.data.get("sub_type", "")))


@registry.guard("registration_suffices")
def registration_suffices(ctx: Context) -> bool:
    """The outfall's sub-type is known and needs no approval: it is registered (登记) instead
    (``approval_required: false`` in config/reference/outfall_types.yaml). An unknown
    sub-type is neither approved nor registered."""
    code = str(ctx.data.get("sub_type", ""))
    return ref.sub_type(ctx.reference, code) is not None and not ref.approval_required(
        ctx.reference, code
    )


@registry.guard("outfall_matches_kind")
def outfall_matches_kind(ctx: Context) -> bool:
    """A new outfall (新设) is not in the ledger yet and is named, with the unit applying; a
    change, enlargement or retroactive permit (改设、扩大、补办) is for an outfall of the
    county's ledger."""
    refuse_another_countys_outfall(ctx)
    code = str(ctx.data.get("outfall_code", ""))
    known = ctx.ops.get_subject(OUTFALL, code) is not None
    kind = ctx.data.get("kind")
    if kind in KINDS_OF_EXISTING:
        if not known:
            raise Refused(
                f"outfall {code} is not in the ledger: a {kind} application is for an existing "
                "outfall (apply with kind new for a new one)"
            )
        return True
    if known:
        raise Refused(f"outfall {code} is in the ledger already: apply to change or enlarge it")
    missing = [
        FieldError(f"$.{name}", f"a new outfall needs its {label}")
        for name, label in (("name", "name (排污口名称)"), ("discharging_unit", "applying unit"))
        if not ctx.data.get(name)
    ]
    if missing:
        raise InputRefused("data", missing)
    return True


@registry.guard("water_function_zone_allows")
def water_function_zone_allows(ctx: Context) -> bool:
    """Where the water-function zone misses its target, only urban WWTP outfalls may be set up
    (plan section 三(四)1: 严格控制除城镇污水处理厂外的排污口设置)."""
    if ctx.data.get("zone_meets_target", True):
        return True
    return ctx.data.get("sub_type") == "urban_wwtp"


# -- the clock: extension, excluded periods, overdue ------------------------------------------


@registry.guard("limit_not_passed")
def limit_not_passed(ctx: Context) -> bool:
    """An extension is approved before the 20 working days have run out (art. 42)."""
    return ctx.data.get("overdue") is not True


@registry.action("record_review_extension")
def record_review_extension(ctx: Context) -> None:
    """The head of the authority extended the limit for deciding by the statutory ten
    days (十日, 行政许可法 art. 42): who, when and why (三(四)2)."""
    ctx.data["review_extended"] = True
    ctx.data["review_extension"] = {
        "by": ctx.actor.name,
        "on": _today(ctx),
        "reason": str(ctx.payload["reason"]),
    }


@registry.action("record_excluded_period")
def record_excluded_period(ctx: Context) -> None:
    """行政许可法 art. 45: the time is not counted, and the applicant is told it in writing."""
    period: dict[str, Any] = {
        "kind": ctx.trigger.removeprefix("start_"),
        "from": _today(ctx),
        "told_until": str(ctx.payload["until"]),
    }
    if ctx.payload.get("reason"):
        period["reason"] = str(ctx.payload["reason"])
    ctx.data["excluded_periods"] = [*ctx.data.get("excluded_periods", []), period]


@registry.action("close_excluded_period")
def close_excluded_period(ctx: Context) -> None:
    """The expert review or the hearing is over: the last period excluded from the statutory
    limit ends today, so the clock of the 行政许可法 (art. 45) runs again (三(四)2)."""
    periods = [dict(p) for p in ctx.data.get("excluded_periods", [])]
    if periods:
        periods[-1]["to"] = _today(ctx)
    ctx.data["excluded_periods"] = periods


@registry.action("mark_overdue")
def mark_overdue(ctx: Context) -> None:
    """The statutory limit for deciding passed: the application is marked overdue, naming
    the limit that passed (``payload.limit``), for the supervision reports (三(四)2)."""
    ctx.data["overdue"] = True
    if ctx.payload.get("limit"):
        ctx.data["overdue_limit"] = str(ctx.payload["limit"])


@registry.action("count_reminder")
def count_reminder(ctx: Context) -> None:
    """Counts one more reminder sent to the applicant to complete the corrections
    (``reminders_sent``)."""
    ctx.data["reminders_sent"] = int(ctx.data.get("reminders_sent", 0)) + 1


# -- decisions, publication, the ledger -------------------------------------------------------


@registry.action("record_refusal")
def record_refusal(ctx: Context) -> None:
    """The application was not accepted (不予受理): the reason given is recorded for the
    notice to the applicant (三(四)2)."""
    ctx.data["refusal_reason"] = str(ctx.payload["reason"])


@registry.action("record_rejection")
def record_rejection(ctx: Context) -> None:
    """The application was refused after review (不予许可): the reason given is recorded for
    the decision letter (三(四)2)."""
    ctx.data["rejection_reason"] = str(ctx.payload["reason"])


@registry.action("record_decision_number")
def record_decision_number(ctx: Context) -> None:
    """The decision's 文号 as the official entered it (the payload schema checks its form)."""
    ctx.data["decision_number"] = str(ctx.payload["decision_number"])
    ctx.data["decided_on"] = _today(ctx)


def authority_name(ctx: Context) -> str:
    department = ctx.data.get("authority_department")
    found = ref.department(ctx.reference, str(department)) if department else None
    if found is not None:
        return str(found["name"])
    county = ref.jurisdiction_name(ctx.reference, str(ctx.data.get("county")))
    if ctx.dest == "registered":
        return f"{county}入河排污口登记部门"  # an office, never the official's own name
    return f"{county}行政审批部门"


@registry.action("publish_decision")
def publish_decision(ctx: Context) -> None:
    """审批备案信息依法公开 (三(四)2): what the public column will show, and when it was
    published. The applying unit is a unit, not a person: it is published."""
    found = ref.river(ctx.reference, str(ctx.data.get("river", "")))
    ctx.data["published_at"] = ctx.now.isoformat()
    ctx.data["publication"] = {
        "result": RESULTS[str(ctx.dest)],
        "decision_number": ctx.data.get("decision_number"),
        "decided_on": ctx.data.get("decided_on"),
        "outfall_code": ctx.data.get("outfall_code"),
        "outfall_name": ctx.data.get("name"),
        "discharging_unit": ctx.data.get("discharging_unit"),
        "river": str(found["name"]) if found else ctx.data.get("river"),
        "county": ref.jurisdiction_name(ctx.reference, str(ctx.data.get("county"))),
        "authority": authority_name(ctx),
        "published_at": ctx.data["published_at"],
    }


@registry.action("enter_ledger")
def enter_ledger(ctx: Context) -> None:
    """An approved or registered outfall is in the ledger (三(一) 动态管理台账): a new one is
    added with its code, name, type, river, responsible unit and decision; a change,
    enlargement or retroactive permit updates the entry (改设 may move it to another river);
    the permit number and water-function zone go with it when the application has them.
    The case is the record's source (``setup``)."""
    new = ctx.data.get("kind") == "new"
    changes: dict[str, Any] = {
        "setup_basis": "approval" if ctx.dest == "approved" else "registration",
        "setup_decision": ctx.data["decision_number"],
        "setup": {
            "case_id": ctx.case_id,
            "kind": ctx.data.get("kind"),
            "decision_number": ctx.data["decision_number"],
            "decided_on": ctx.data["decided_on"],
            "authority": ctx.data.get("authority") or "registration",
        },
    }
    if new:
        changes.update(
            name=ctx.data.get("name"),
            sub_type=ctx.data["sub_type"],
            county=ctx.data["county"],
            river=ctx.data["river"],
            responsible_party=ctx.data.get("discharging_unit"),
            rectification_status="not_needed",  # set up as approved: nothing to rectify
        )
    elif ctx.data.get("kind") == "change":
        changes["river"] = ctx.data["river"]
    changes.update({k: ctx.data[k] for k in LEDGER_FACTS if ctx.data.get(k)})
    code = str(ctx.data["outfall_code"])
    try:
        record_setup_in(ctx.ops, ctx.reference, code, changes, new=new)
    except InvalidOutfall as exc:
        raise InputRefused("data", exc.errors) from exc
    except (OutfallExists, OutfallNotFound) as exc:
        raise Refused(str(exc)) from exc
