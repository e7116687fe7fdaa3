"""Guards and actions of workflows/effectiveness_check.yaml: effectiveness checks (县级自查 →
市级抽查 → 省级核查) and the city's 双随机 spot-check.

``draw_spot_check`` draws the sample from the ledger (outfalls in the case's county) with a
seeded generator (``handlers.sampling.draw``); the seed, the pool snapshot, the inspectors, the
conflicts and the policy are recorded in ``data.spot_check`` (and so in the history), and
``handlers.sampling.draw.redraw`` repeats the draw from that record. ``refer_findings`` sends
every failed outfall back to rectification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import FieldError, InputRefused, Refused
from engine.handlers import Context, Registry
from handlers.dates import add_days, local_day
from handlers.flows._case import open_escalation
from handlers.reference import data as ref
from handlers.sampling.draw import DRAW_VERSION, derive_seed, draw_sample, spot_check_weights

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


@registry.action("draw_spot_check")
def draw_spot_check(ctx: Context) -> None:
    """双随机: draw targets from the county's ledger and inspectors from the payload's pool."""
    policy = ref.spot_check(ctx.reference)
    given = ctx.payload.get("seed")
    seed = int(given) if given is not None else derive_seed(ctx.case_id, ctx.now)
    ratio = float(ctx.payload.get("ratio", policy.get("city_ratio", 0.05)))
    min_inspectors = int(policy.get("min_inspectors", 2))
    weights = spot_check_weights(ctx.reference)
    county = str(ctx.data["county"])
    pool = outfall_pool(ctx, county)
    if not pool:
        raise Refused(f"the ledger has no outfall in {county}: nothing to draw")
    inspectors = sorted({str(i) for i in ctx.payload.get("inspectors") or []})
    conflicts = {str(k): list(v) for k, v in (ctx.payload.get("conflicts") or {}).items()}
    targets = draw_sample(
        pool, inspectors, seed, ratio, weights, min_inspectors=min_inspectors, conflicts=conflicts
    )
    ctx.data["spot_check"] = {
        "draw_version": DRAW_VERSION,
        "seed": seed,
        "seed_source": "payload" if given is not None else "derived from case id and clock",
        "ratio": ratio,
        "min_inspectors": min_inspectors,
        "weights": weights,
        "pool": pool,
        "inspectors": inspectors,
        "conflicts": conflicts,
        "targets": targets,
        "drawn_at": ctx.now.isoformat(),
        "drawn_by": ctx.actor.name,
    }


def _check_sample_covered(data: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> None:
    drawn = {t["outfall_code"] for t in (data.get("spot_check") or {}).get("targets", [])}
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
