"""The 双随机 draw (random targets, random inspectors) as a pure, re-playable function.

"One list, two pools": targets come from a pool of outfalls, inspectors from a pool of people.
Targets are drawn without replacement with probability weighted by sub-type (A-ES weighted
sampling: each outfall gets the key ``u ** (1 / weight)`` and the largest keys win), so the
focus sub-types (industrial enterprise, park WWTP, urban WWTP) come up more often. Every target
gets ``min_inspectors`` distinct inspectors drawn among those without a conflict of interest.

Everything comes from one ``random.Random(seed)``, walked in a canonical order (pool sorted by
code, inspectors sorted), so the same seed and pool give the same sample on any machine; the
seed and the pool snapshot are recorded in the case so anyone can re-draw.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.errors import Refused
from handlers.reference import data as ref

__all__ = [
    "DRAW_VERSION",
    "SamplingError",
    "derive_seed",
    "draw_sample",
    "redraw",
    "sample_size",
    "spot_check_weights",
]

DRAW_VERSION = 1  # bump if the algorithm changes; recorded with every draw


class SamplingError(Refused):
    """The draw cannot be made (empty pool, too few inspectors without a conflict)."""

    status, kind, exit_code = 409, "refused", 5
    title = "The spot-check sample cannot be drawn"


def derive_seed(case_id: int, now: datetime) -> int:
    """A seed from the case id and the (injected) clock: deterministic, never os.urandom."""
    digest = hashlib.sha256(f"{case_id}|{now.isoformat()}".encode()).hexdigest()
    return int(digest[:12], 16)


def sample_size(pool_size: int, ratio: float) -> int:
    """``ceil(ratio * pool)``, at least one when the pool is not empty, at most the pool."""
    if pool_size <= 0:
        return 0
    wanted = math.ceil(round(pool_size * ratio, 9))
    return min(pool_size, max(1, wanted))


def _conflicted(inspector: str, target: Mapping[str, Any], conflicts: Mapping[str, Any]) -> bool:
    """An inspector is recused from a target whose code, county or responsible party is
    listed against them."""
    listed = {str(x) for x in conflicts.get(inspector) or []}
    keys = (target.get("code"), target.get("county"), target.get("responsible_party"))
    return any(k is not None and str(k) in listed for k in keys)


def _weight(item: Mapping[str, Any], weights: Mapping[str, float], default: float) -> float:
    weight = float(weights.get(str(item.get("sub_type")), default))
    if weight <= 0:
        raise SamplingError(f"sub-type {item.get('sub_type')!r} has a weight <= 0")
    return weight


def _targets(
    rng: random.Random,
    pool: Sequence[Mapping[str, Any]],
    size: int,
    weights: Mapping[str, float],
    default_weight: float,
) -> list[Mapping[str, Any]]:
    keyed = []
    for item in sorted(pool, key=lambda i: str(i["code"])):
        u = rng.random()
        keyed.append((u ** (1.0 / _weight(item, weights, default_weight)), str(item["code"]), item))
    keyed.sort(key=lambda k: (-k[0], k[1]))
    return [item for _, _, item in keyed[:size]]


def draw_sample(
    pool: Sequence[Mapping[str, Any]],
    inspectors: Sequence[str],
    seed: int,
    ratio: float,
    weights: Mapping[str, float],
    *,
    min_inspectors: int = 2,
    conflicts: Mapping[str, Sequence[str]] | None = None,
    default_weight: float = 1.0,
) -> list[dict[str, Any]]:
    """Draw the spot-check sample: ``[{outfall_code, sub_type, county, inspectors}]`` in draw
    order. ``pool`` items need ``code`` and ``sub_type`` (``county`` and ``responsible_party``
    are used for recusal); ``conflicts`` maps an inspector to the codes, counties or parties
    they must not check. Pure: same arguments, same sample."""
    if not pool:
        raise SamplingError("the pool of outfalls is empty: nothing to draw")
    if not 0 < ratio <= 1:
        raise SamplingError(f"ratio must be in (0, 1], not {ratio}")
    if min_inspectors < 1:
        raise SamplingError("min_inspectors must be at least 1")
    rng = random.Random(seed)
    chosen = _targets(rng, pool, sample_size(len(pool), ratio), weights, default_weight)
    people = sorted(set(inspectors))
    sample = []
    for target in chosen:
        eligible = [p for p in people if not _conflicted(p, target, conflicts or {})]
        if len(eligible) < min_inspectors:
            raise SamplingError(
                f"outfall {target['code']}: only {len(eligible)} inspector(s) without a "
                f"conflict of interest, {min_inspectors} needed"
            )
        sample.append(
            {
                "outfall_code": str(target["code"]),
                "sub_type": target.get("sub_type"),
                "county": target.get("county"),
                "inspectors": sorted(rng.sample(eligible, min_inspectors)),
            }
        )
    return sample


def spot_check_weights(reference: Mapping[str, Any]) -> dict[str, float]:
    """``spot_check_weight`` of every sub-type in config/reference/outfall_types.yaml."""
    return {
        str(s["code"]): float(s.get("spot_check_weight", 1) or 1) for s in ref.sub_types(reference)
    }


def redraw(record: Mapping[str, Any], seed: int | None = None) -> list[dict[str, Any]]:
    """Repeat a recorded draw (``data.spot_check``), with its own seed or another one."""
    return draw_sample(
        record["pool"],
        record["inspectors"],
        record["seed"] if seed is None else seed,
        float(record["ratio"]),
        record["weights"],
        min_inspectors=int(record["min_inspectors"]),
        conflicts=record.get("conflicts") or {},
    )
