"""Guards and actions of workflows/effectiveness_check.yaml: effectiveness checks (县级自查 →
市级抽查 → 省级核查) and the city's 双随机 spot-check.

``draw_spot_check`` snapshots the pool (outfalls of the case's county in the ledger), makes the
draw's secret, records the commitment to both in ``data.spot_check`` and only then derives the
sample from them (``handlers.sampling``); the targets and the inspection day go into fields
kept from the inspected county until that day, the secret into ``draw_secret``, which no role
reads. ``inspection_day_reached`` holds the results until the inspection day, and
``publish_spot_check`` then reveals the secret and records what will be published (一公开).
``refer_findings`` sends every failed outfall back to rectification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import add_days, local_day
from handlers.flows._case import open_escalation
from handlers.reference import data as ref
from handlers.reference import sectors
from handlers.sampling.commit import commitment, new_secret
from handlers.sampling.draw import DRAW_METHOD, DRAW_VERSION, draw_sample, spot_check_weights

__all__ = ["FINDING_RECTIFY_DAYS", "outfall_pool", "registry"]

registry = Registry()

# A finding gets this many days to rectify when neither the result nor the plan's basin
# deadline (already past) gives a later date.
FINDING_RECTIFY_DAYS = 90

# Which level reports results from which state of workflows/effectiveness_check.yaml.
LEVELS = {"self_checking": "county", "spot_checking": "city", "provincial_verification": "province"}


def outfall_pool(ctx: Context, jurisdiction: str) -> list[dict[str, Any]]:
    """The pool snapshot: every ledger outfall in ``jurisdiction`` (and beneath it)."""
    pool = []
    for record in ctx.ops.list_subjects("outfall", jurisdiction):
        data = record["data"]
        pool.append(
            {
                "code": record["key"],
                "sub_type": data.get("sub_type"),
                "county": data.get("county") or record["jurisdiction"],
                "responsible_party": data.get("responsible_party"),
                "status": data.get("status"),
            }
        )
    return pool


def _inspection_date(ctx: Context) -> str:
    """The payload's inspection day: today or later (the targets are released on that day, so
    a day already past would show them to the county at once)."""
    day = str(ctx.payload["inspection_date"])
    today = local_day(ctx.now).isoformat()
    if day < today:
        raise InputRefused.at(
            "payload", "$.inspection_date", f"the inspection day {day} is before today ({today})"
        )
    return day


@registry.action("draw_spot_check")
def draw_spot_check(ctx: Context) -> None:
    """双随机 (三(三)): commit to the county's pool and a fresh secret, then draw targets from
    them and inspectors from the payload's pool. Nothing in the payload chooses the targets."""
    policy = ref.spot_check(ctx.reference)
    ratio = float(policy.get("city_ratio", 0.05))
    min_inspectors = int(policy.get("min_inspectors", 2))
    weights = spot_check_weights(ctx.reference)
    county = str(ctx.data["county"])
    inspection_date = _inspection_date(ctx)
    pool = outfall_pool(ctx, county)
    if not pool:
        raise Refused(f"the ledger has no outfall in {county}: nothing to draw")
    inspectors = sorted({str(i) for i in ctx.payload.get("inspectors") or []})
    conflicts = {str(k): list(v) for k, v in (ctx.payload.get("conflicts") or {}).items()}
    secret = new_secret()
    record = {
        "draw_version": DRAW_VERSION,
        "method": DRAW_METHOD,
        "commitment": commitment((p["code"] for p in pool), secret),
        "ratio": ratio,
        "min_inspectors": min_inspectors,
        "weights": weights,
        "pool": pool,
        "inspectors": inspectors,
        "conflicts": conflicts,
        "drawn_at": ctx.now.isoformat(),
        "drawn_by": ctx.actor.name,
    }
    targets = draw_sample(
        pool, inspectors, secret, ratio, weights, min_inspectors=min_inspectors, conflicts=conflicts
    )
    ctx.data["spot_check"] = record
    ctx.data["draw_secret"] = secret
    ctx.data["spot_check_targets"] = targets
    ctx.data["inspection_date"] = inspection_date


@registry.guard("inspection_day_reached")
def inspection_day_reached(ctx: Context) -> bool:
    """The city reports a spot-check (and so reveals the draw) from the inspection day on."""
    day = ctx.data.get("inspection_date")
    if day is not None and local_day(ctx.now).isoformat() < str(day):
        raise Refused(f"the inspection is on {day}: its results are reported from that day")
    return True


# The parts of data.spot_check that re-check the draw (handlers.sampling.commit.verify_draw);
# a draw of version 1 (before issue 15) had a seed instead of a secret and a commitment.
_PUBLISHED_DRAW = (
    "draw_version",
    "method",
    "commitment",
    "secret",
    "seed",
    "ratio",
    "min_inspectors",
    "weights",
    "pool",
    "inspectors",
    "conflicts",
    "drawn_at",
)


def _drawn_targets(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The drawn targets (where a version-1 draw kept them: in data.spot_check)."""
    if "spot_check_targets" in data:
        return list(data["spot_check_targets"])
    return list((data.get("spot_check") or {}).get("targets") or [])


@registry.action("publish_spot_check")
def publish_spot_check(ctx: Context) -> None:
    """After the inspection: reveal the draw's secret and record what will be published
    (一公开: targets, results, commitment, secret and everything needed to re-check the draw)."""
    record = dict(ctx.data.get("spot_check") or {})
    secret = ctx.data.get("draw_secret")
    if secret is not None:  # a version-1 draw has none (its seed was never hidden)
        record.update(secret=secret, revealed_at=ctx.now.isoformat(), revealed_by=ctx.actor.name)
        ctx.data["spot_check"] = record
    today = local_day(ctx.now).isoformat()
    results = [
        {k: r[k] for k in ("outfall_code", "passed", "finding") if k in r}
        for r in ctx.payload.get("results") or []
    ]
    ctx.data["publication"] = {
        "title": "入河排污口“双随机”抽查结果",
        "county": ctx.data["county"],
        "year": ctx.data["year"],
        "inspection_date": ctx.data.get("inspection_date"),
        "published_on": today,
        "published_by": ctx.actor.name,
        "targets": _drawn_targets(ctx.data),
        "results": results,
        **{k: record[k] for k in _PUBLISHED_DRAW if k in record},
    }


def _check_sample_covered(data: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> None:
    drawn = {t["outfall_code"] for t in _drawn_targets(data)}
    reported = {str(r["outfall_code"]) for r in results}
    extra, missing = sorted(reported - drawn), sorted(drawn - reported)
    if extra:
        raise InputRefused(
            "payload",
            [
                FieldError(f"$.results[{i}].outfall_code", f"{code} is not in the drawn sample")
                for i, r in enumerate(results)
                if (code := str(r["outfall_code"])) in extra
            ],
        )
    if missing:
        raise InputRefused.at(
            "payload", "$.results", f"no result for sampled outfall(s): {', '.join(missing)}"
        )


def _deadline(ctx: Context, result: Mapping[str, Any], basin: str | None) -> str:
    if result.get("rectify_by"):
        return str(result["rectify_by"])
    today = local_day(ctx.now)
    planned = ref.rectification_deadline(ctx.reference, basin)
    fallback = add_days(today, FINDING_RECTIFY_DAYS).isoformat()
    return planned if planned > today.isoformat() else fallback


def _send_back(
    ctx: Context, result: Mapping[str, Any], level: str, path: str | None
) -> tuple[int, bool]:
    """Open (or find) the outfall's rectification case for a failed check. An outfall not in
    the ledger is refused: at ``path`` when this request's payload reported it, else as the
    state of a finding recorded earlier."""
    code = str(result["outfall_code"])
    record = ctx.ops.get_subject("outfall", code)
    if record is None:
        message = f"outfall {code} is not in the ledger"
        if path is None:
            raise Refused(f"{level} finding: {message}")
        raise InputRefused.at("payload", path, message)
    basin = record.get("basin")
    data = {
        "outfall_code": code,
        "county": record.get("county") or ctx.data["county"],
        "sub_type": record.get("sub_type"),
        "river": record.get("river"),
        "basin": basin,
        "deadline": _deadline(ctx, result, basin),
        "source_workflow": ctx.workflow,
        "source_case_id": ctx.case_id,
        "finding": f"{level}: {result.get('finding', '')}",
    }
    clean = {k: v for k, v in data.items() if v is not None}
    return ctx.ops.open_case_if_absent("rectification", clean, subject=code)


@registry.action("escalate_county")
def escalate_county(ctx: Context) -> None:
    """The self-check deadline passed: the case is overdue and its county is escalated (督办)
    about this workflow; the case remembers the escalation."""
    reason = str(ctx.payload.get("reason") or f"{ctx.workflow} 逾期未完成 (case {ctx.case_id})")
    ctx.data["overdue"] = True
    open_escalation(ctx, ctx.workflow, reason)


@registry.guard("all_passed")
def all_passed(ctx: Context) -> bool:
    """Every reported outfall passed (no finding to follow up)."""
    return all(bool(r.get("passed")) for r in ctx.payload.get("results") or [])


def _assign(ctx: Context, finding: dict[str, Any], path: str | None = None) -> None:
    case_id, opened = _send_back(ctx, finding, finding["level"], path)
    finding["rectification_case_id"] = case_id
    finding["rectification_opened"] = opened
    finding["assigned_by"] = ctx.actor.name


@registry.action("refer_findings")
def refer_findings(ctx: Context) -> None:
    """Record a level's results. Failed outfalls found by the county or the city go back to
    rectification at once; the province's findings wait for the city to assign them."""
    level = LEVELS.get(ctx.source, ctx.source)
    results = [dict(r) for r in ctx.payload.get("results") or []]
    if level == "city":
        _check_sample_covered(ctx.data, results)
    findings = ctx.data.setdefault("findings", [])
    failed = [(i, r) for i, r in enumerate(results) if not r.get("passed")]
    for index, result in failed:
        finding = {
            "level": level,
            "outfall_code": result["outfall_code"],
            "finding": result.get("finding", ""),
            "rectification_case_id": None,
        }
        if result.get("rectify_by"):
            finding["rectify_by"] = result["rectify_by"]
        if level != "province":
            _assign(ctx, finding, f"$.results[{index}].outfall_code")
        findings.append(finding)
    ctx.data.setdefault("results", {})[level] = {
        "checked": len(results),
        "failed": len(failed),
        "reported_at": ctx.now.isoformat(),
        "reported_by": ctx.actor.name,
    }


@registry.action("assign_findings")
def assign_findings(ctx: Context) -> None:
    """The city assigns the findings still without a rectification case (省级核查问题交办)."""
    for finding in ctx.data.get("findings") or []:
        if finding.get("rectification_case_id") is None:
            _assign(ctx, finding)


@registry.action("record_sector_opinion")
def record_sector_opinion(ctx: Context) -> None:
    """A sector department (三(三) lead unit) gives its opinion on an outfall of its own sector
    (四(二)) in the case's county; the levels' results stay the checking levels' own."""
    code = str(ctx.payload["outfall_code"])
    record = ctx.ops.get_subject("outfall", code)
    county = str(ctx.data.get("county", ""))
    if record is None or ctx.ops.owner_of("outfall", code) != county:
        raise InputRefused.at(
            "payload", "$.outfall_code", f"outfall {code} is not in the ledger of {county}"
        )
    sub_type = str(record.get("sub_type", ""))
    if not sectors.role_may_act(ctx.reference, ctx.actor.role, sub_type):
        raise Refused(f"outfall {code} ({sub_type}) is not of {ctx.actor.name}'s sector (四(二))")
    opinion: dict[str, Any] = {
        "outfall_code": code,
        "department": sectors.department_of_role(ctx.reference, ctx.actor.role),
        "by": ctx.actor.name,
        "at": ctx.now.isoformat(),
        "stage": ctx.source,
        "opinion": str(ctx.payload["opinion"]),
    }
    if "passed" in ctx.payload:
        opinion["passed"] = bool(ctx.payload["passed"])
    ctx.data["sector_opinions"] = [*ctx.data.get("sector_opinions", []), opinion]
