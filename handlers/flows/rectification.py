"""Guards and actions of workflows/rectification.yaml: rectification (整治), plan section 三(三):
ban / merge / regularise, county pre-close-out, city review, de-listing (销号) that updates the
ledger; the deadline comes from the basin's campaign, or for an outfall found after it from its
own plan or a period (新增排污口动态清零), and an overdue case escalates (督办) its county."""

from __future__ import annotations

from engine.errors import FieldError, InputRefused
from engine.handlers import Context, Registry
from handlers.dates import local_day
from handlers.flows._case import (
    OUTFALL,
    open_escalation,
    outfall_code,
    put_outfall,
    refuse_another_countys_outfall,
    update_outfall,
)
from handlers.reference import data as ref
from handlers.reference import sectors

registry = Registry()

# Ledger status after de-listing, by mode (regularised outfalls stay in service).
STATUS_AFTER = {"ban": "abolished", "merge": "merged", "regularise": "active"}


def basin_of_case(ctx: Context) -> str | None:
    basin = ctx.data.get("basin")
    if not basin and ctx.data.get("river"):
        basin = ref.basin_of(ctx.reference, str(ctx.data["river"]))
    return str(basin) if basin else None


@registry.action("rectified_outfall_of_this_county")
def rectified_outfall_of_this_county(ctx: Context) -> None:
    """A rectification case is about an outfall of its own county: an outfall code that the
    ledger records for another county is refused (三(三))."""
    refuse_another_countys_outfall(ctx)


def _found_on(ctx: Context) -> str:
    """The day the outfall was found: the ledger's ``found_at``, else the day it was recorded
    (``recorded_on``); an outfall not in the ledger is being recorded now."""
    record = ctx.ops.get_subject(OUTFALL, outfall_code(ctx)) or {}
    found = record.get("found_at") or record.get("recorded_on")
    return str(found) if found else local_day(ctx.now).isoformat()


@registry.action("set_rectification_deadline")
def set_rectification_deadline(ctx: Context) -> None:
    """Unless the case was opened with a deadline (``deadline_basis: given``): the campaign
    deadline of the basin (Yellow River 2024-06-30, otherwise 2025-12-31,
    config/reference/deadlines.yaml; ``campaign``). An outfall found after it is a new outfall
    (新增排污口动态清零, 三(一)): ``new_outfall_period`` from the day it was found (``period``),
    until its own plan gives a date (``plan``, ``apply_rectification_plan``)."""
    basin = basin_of_case(ctx)
    if basin and "basin" not in ctx.data:
        ctx.data["basin"] = basin
    if ctx.data.get("deadline"):
        ctx.data.setdefault("deadline_basis", "given")
        return
    found = _found_on(ctx)
    ctx.data["found_on"] = found
    if ref.is_new_outfall(ctx.reference, basin, found):
        ctx.data["deadline"] = ref.new_outfall_deadline(ctx.reference, found)
        ctx.data["deadline_basis"] = "period"
    else:
        ctx.data["deadline"] = ref.rectification_deadline(ctx.reference, basin)
        ctx.data["deadline_basis"] = "campaign"


@registry.action("apply_rectification_plan")
def apply_rectification_plan(ctx: Context) -> None:
    """一口一策: the plan's completion date (``planned_completion``), not before today. A new
    outfall's deadline becomes it (``plan``); an outfall of the campaign keeps the campaign's,
    which its plan may not pass (a later date is asked for as an extension)."""
    planned = ctx.payload.get("planned_completion")
    if not planned:
        return
    planned, today = str(planned), local_day(ctx.now).isoformat()
    if planned < today:
        raise InputRefused.at(
            "payload", "$.planned_completion", f"{planned} is before today ({today})"
        )
    ctx.data["planned_completion"] = planned
    if ctx.data.get("deadline_basis") in ("period", "plan"):
        ctx.data["deadline"], ctx.data["deadline_basis"] = planned, "plan"
    elif planned > str(ctx.data.get("deadline", planned)):
        which = "campaign" if ctx.data.get("deadline_basis") == "campaign" else "given"
        raise InputRefused.at(
            "payload",
            "$.planned_completion",
            f"{planned} is after the {which} deadline {ctx.data['deadline']}; "
            "ask for an extension (request_extension) instead",
        )


@registry.action("mark_rectification_started")
def mark_rectification_started(ctx: Context) -> None:
    """Rectification works started: the outfall's ledger record shows
    ``rectification_status: in_progress`` (三(三))."""
    update_outfall(ctx, rectification_status="in_progress")


@registry.action("record_mode_in_ledger")
def record_mode_in_ledger(ctx: Context) -> None:
    """The chosen mode is in the ledger from the choice on (the outfall stays in service until
    de-listed), so an outfall being banned or merged cannot be kept (三(三), retained_list).
    A regularised outfall's 规范化建设 is under way from then (``standardisation_status``)."""
    mode = str(ctx.data["mode"])
    extra = {"standardisation_status": "in_progress"} if mode == "regularise" else {}
    update_outfall(ctx, rectification_mode=mode, **extra)


@registry.action("record_standardisation_done")
def record_standardisation_done(ctx: Context) -> None:
    """规范化建设 finished with its evidence (标志牌、采样点、二维码, 三(三)): the ledger record
    shows ``standardisation_status: done``."""
    update_outfall(ctx, standardisation_status="done")


@registry.guard("merge_target_in_ledger")
def merge_target_in_ledger(ctx: Context) -> bool:
    """The outfall merged into is another outfall of the ledger that is still in service."""
    target = str(ctx.payload.get("merged_into", ""))
    if not target or target == outfall_code(ctx):
        return False
    record = ctx.ops.get_subject(OUTFALL, target)
    return record is not None and record.get("status", "active") == "active"


def _discharging_units(ctx: Context) -> list[str]:
    """The units that discharge through the outfall: those the tracing named (a shared outfall
    has several), else its responsible party (the ledger's, or the case's)."""
    units = [str(u) for u in ctx.data.get("discharging_units") or []]
    if units:
        return units
    record = ctx.ops.get_subject(OUTFALL, outfall_code(ctx)) or {}
    party = record.get("responsible_party") or ctx.data.get("responsible_party")
    return [str(party)] if party else []


@registry.action("meter_each_unit_before_joining")
def meter_each_unit_before_joining(ctx: Context) -> None:
    """共用排污口 (plan 三(四)4): before the merged outfall's drainage joins the shared channel,
    each discharging unit has its own monitoring and metering device, so blame can be told
    apart; a unit or a device listed twice, or a unit without a meter, is refused at its path.
    Only then does the case reach ``merging`` (joining)."""
    metering = list(ctx.payload.get("metering") or [])
    errors: list[FieldError] = []
    for key in ("unit", "device"):
        seen: set[str] = set()
        for index, meter in enumerate(metering):
            value = str(meter[key])
            if value in seen:
                errors.append(FieldError(f"$.metering[{index}].{key}", f"{value} is listed twice"))
            seen.add(value)
    metered = {str(m["unit"]) for m in metering}
    missing = [u for u in _discharging_units(ctx) if u not in metered]
    if missing:
        message = (
            f"every discharging unit needs a meter before joining; none for {'、'.join(missing)}"
        )
        errors.append(FieldError("$.metering", message))
    if errors:
        raise InputRefused("payload", errors)
    ctx.data["metered_at"] = ctx.now.isoformat()


def _share_target(ctx: Context) -> None:
    """The outfall merged into is now shared: its ledger record lists, in ``shared_by``, each
    unit whose drainage joined it, with its metering device and the outfall it came from."""
    target = str(ctx.data["merged_into"])
    record = ctx.ops.get_subject(OUTFALL, target)
    if record is None:
        return
    joined = [
        {"unit": m["unit"], "device": m["device"], "from_outfall": outfall_code(ctx)}
        for m in ctx.data.get("metering") or []
    ]
    record["shared_by"] = [*(record.get("shared_by") or []), *joined]
    put_outfall(ctx, target, record)


@registry.action("record_pre_close")
def record_pre_close(ctx: Context) -> None:
    """The county checked the works and asks for de-listing (预销号): the time is recorded,
    and the sector departments that co-sign next (the sign_off of sector_cosigning) (三(三))."""
    ctx.data["pre_closed_at"] = ctx.now.isoformat()
    ctx.data["cosign_roles"] = sectors.cosign_roles(ctx.reference, str(ctx.data["sub_type"]))


@registry.action("record_send_back")
def record_send_back(ctx: Context) -> None:
    """The city sent the de-listing back to the county: the reason is recorded and the
    send-backs are counted (三(三))."""
    ctx.data["send_back_reason"] = str(ctx.payload["reason"])
    ctx.data["send_backs"] = int(ctx.data.get("send_backs", 0)) + 1


@registry.action("delist_outfall")
def delist_outfall(ctx: Context) -> None:
    """销号 (de-listing): the case records when, and the outfall's ledger record shows the
    outcome of the mode: banned → abolished, merged → merged (into ``merged_into``, whose record
    then lists the units that joined it), regularised → still active (三(三))."""
    mode = str(ctx.data["mode"])
    ctx.data["delisted_at"] = ctx.now.isoformat()
    changes: dict[str, object] = {
        "status": STATUS_AFTER[mode],
        "rectification_status": "done",
        "rectification_mode": mode,
    }
    if mode == "merge":
        changes["merged_into"] = ctx.data["merged_into"]
        _share_target(ctx)
    update_outfall(ctx, **changes)


@registry.action("escalate_overdue_rectification")
def escalate_overdue_rectification(ctx: Context) -> None:
    """Past its deadline: mark the case and open a 督办 case against the county, once."""
    ctx.data["overdue"] = True
    reason = f"排污口{outfall_code(ctx)}整治逾期（期限{ctx.data.get('deadline', '')}）"
    open_escalation(ctx, "rectification", reason)


# -- extension of the deadline (延期): the county government asks, the city EEB decides --------


def _deadline_not_passed(ctx: Context) -> bool:
    """Today (Shanghai) is on or before the deadline day, and no overdue firing came first."""
    deadline = str(ctx.data.get("deadline") or "")
    today = local_day(ctx.now).isoformat()
    return bool(deadline) and not ctx.data.get("overdue") and today <= deadline


@registry.guard("rectification_extension_can_be_requested")
def rectification_extension_can_be_requested(ctx: Context) -> bool:
    """No other request pending, the deadline not passed, and the new date later than it."""
    if ctx.data.get("extension_request") or not _deadline_not_passed(ctx):
        return False
    return str(ctx.payload["until"]) > str(ctx.data["deadline"])


@registry.action("record_rectification_extension_request")
def record_rectification_extension_request(ctx: Context) -> None:
    """The county government asks to extend the rectification deadline: the requested date,
    the reason, who asked and when are kept until the city EEB grants or refuses it
    (三(三))."""
    ctx.data["extension_request"] = {
        "until": str(ctx.payload["until"]),
        "reason": str(ctx.payload["reason"]),
        "requested_by": ctx.actor.name,
        "requested_at": ctx.now.isoformat(),
    }


@registry.guard("rectification_extension_can_be_granted")
def rectification_extension_can_be_granted(ctx: Context) -> bool:
    """A request is pending and the deadline it would extend has not passed."""
    return bool(ctx.data.get("extension_request")) and _deadline_not_passed(ctx)


def _decide(ctx: Context, decision: str, **extra: str) -> dict[str, str]:
    request = dict(ctx.data.pop("extension_request"))
    entry = {
        "from": str(ctx.data.get("deadline", "")),
        **request,
        "decision": decision,
        "decided_by": ctx.actor.name,
        "decided_at": ctx.now.isoformat(),
        **extra,
    }
    ctx.data["extensions"] = [*ctx.data.get("extensions", []), entry]
    return request


@registry.action("grant_rectification_extension")
def grant_rectification_extension(ctx: Context) -> None:
    """The deadline becomes the requested date; the deadline timer follows data.deadline."""
    ctx.data["deadline"] = _decide(ctx, "granted")["until"]


@registry.action("refuse_rectification_extension")
def refuse_rectification_extension(ctx: Context) -> None:
    """The city EEB refused the extension: the request and the reason for refusing are added
    to ``extensions``, and the deadline stays (三(三))."""
    _decide(ctx, "refused", refusal_reason=str(ctx.payload["reason"]))


# -- 行业主管部门会签 before 销号 (三(二)/三(三), 四(二); handlers.reference.sectors) ------------


@registry.action("record_sector_cosign")
def record_sector_cosign(ctx: Context) -> None:
    """The sign-off completed (its round is the payload): the department that co-signed, kept
    with the case after it leaves the state (三(三), 四(二)). No signature (no sector
    department): nothing."""
    signatures = ctx.payload["sign_off"]["signatures"]
    if not signatures:
        ctx.data.pop("sector_cosign", None)
        return
    first = signatures[0]
    department = str(sectors.department_of_role(ctx.reference, str(first["role"])))
    ctx.data["sector_cosign"] = {
        "department": department,
        "department_name": str((ref.department(ctx.reference, department) or {}).get("name")),
        "by": str(first["by"]),
        "at": str(first["at"]),
        "opinion": str(first["payload"]["opinion"]),
    }


@registry.action("void_sector_cosign")
def void_sector_cosign(ctx: Context) -> None:
    """Sent back: the works change, so the department signs again."""
    ctx.data.pop("sector_cosign", None)
