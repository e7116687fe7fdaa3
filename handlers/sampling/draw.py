"""The 双随机 draw (random targets, random inspectors) as a pure function of a secret.

"One list, two pools": targets come from a pool of outfalls, inspectors from a pool of people.
No caller chooses the randomness: the system makes a 32-byte secret when it draws
(``handlers.sampling.commit.new_secret``, ``secrets.token_bytes``), and every random number of
the draw is an HMAC-SHA256 under that secret of a label and the names involved, so the draw is
a pure function of (secret, pool, inspectors, conflicts, policy) and anyone who learns the
secret after the inspection can repeat it (``handlers.sampling.commit.verify_draw``):

- **targets**: each outfall ``code`` gets ``u = HMAC(secret, "target" US code)`` read as a
  number in (0, 1) (the first 53 bits of the MAC, plus one half, over 2**53), and the key
  ``u ** (1 / weight)``; the ``sample_size`` largest keys win (A-ES weighted sampling without
  replacement), ties broken by code. The focus sub-types (industrial enterprise, park WWTP,
  urban WWTP) weigh more, so they come up more often. A larger ratio only adds targets: the
  order of the keys does not depend on it.
- **inspectors**: every target gets the ``min_inspectors`` eligible people (no conflict of
  interest) with the smallest ``HMAC(secret, "inspector" US code US name)``.

("US" is the unit separator U+001F.) Whether a draw can be made is decided before any number
is drawn, over the whole pool: a refusal that named a drawn outfall would tell the drawer a
target and let them retry with a fresh secret until an outfall they do not want is gone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import Refused
from handlers.reference import data as ref

__all__ = [
    "DRAW_METHOD",
    "DRAW_VERSION",
    "SamplingError",
    "draw_sample",
    "sample_size",
    "spot_check_weights",
]

DRAW_VERSION = 2  # bump if the algorithm changes; recorded with every draw (1: a seed, retired)
DRAW_METHOD = "HMAC-SHA256(secret, label US names) → A-ES weighted sampling without replacement"

_US = "\x1f"


class SamplingError(Refused):
    """The draw cannot be made (empty pool, too few inspectors without a conflict)."""

    status, kind, exit_code = 409, "refused", 5
    title = "The spot-check sample cannot be drawn"


def sample_size(pool_size: int, ratio: float) -> int:
    """``ceil(ratio * pool)``, at least one when the pool is not empty, at most the pool."""
    if pool_size <= 0:
        return 0
    wanted = math.ceil(round(pool_size * ratio, 9))
    return min(pool_size, max(1, wanted))


def _key(secret: bytes, *parts: str) -> bytes:
    return hmac.new(secret, _US.join(parts).encode("utf-8"), hashlib.sha256).digest()


def _unit(secret: bytes, *parts: str) -> float:
    """A number in (0, 1) from the MAC of ``parts``."""
    bits = int.from_bytes(_key(secret, *parts)[:8], "big") >> 11  # 53 bits
    return (bits + 0.5) / 2**53


def _secret_bytes(secret: str) -> bytes:
    try:
        raw = bytes.fromhex(secret)
    except ValueError as exc:
        raise SamplingError("the draw's secret must be hexadecimal") from exc
    if len(raw) < 16:
        raise SamplingError("the draw's secret must have at least 16 bytes")
    return raw


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


def _eligible(
    pool: Sequence[Mapping[str, Any]],
    people: Sequence[str],
    conflicts: Mapping[str, Any],
    needed: int,
) -> dict[str, list[str]]:
    """Who may check each outfall of the pool; refused (naming the first outfall by code)
    when one has fewer than ``needed``: judged before drawing, so it says nothing of the draw."""
    out: dict[str, list[str]] = {}
    for item in sorted(pool, key=lambda i: str(i["code"])):
        code = str(item["code"])
        out[code] = [p for p in people if not _conflicted(p, item, conflicts)]
        if len(out[code]) < needed:
            raise SamplingError(
                f"outfall {code}: only {len(out[code])} inspector(s) without a conflict of "
                f"interest, {needed} needed"
            )
    return out


def draw_sample(
    pool: Sequence[Mapping[str, Any]],
    inspectors: Sequence[str],
    secret: str,
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
    they must not check; ``secret`` is hexadecimal. Pure: same arguments, same sample, in
    whatever order the pool and the inspectors come."""
    if not pool:
        raise SamplingError("the pool of outfalls is empty: nothing to draw")
    if not 0 < ratio <= 1:
        raise SamplingError(f"ratio must be in (0, 1], not {ratio}")
    if min_inspectors < 1:
        raise SamplingError("min_inspectors must be at least 1")
    key = _secret_bytes(secret)
    people = sorted({str(p) for p in inspectors})
    eligible = _eligible(pool, people, conflicts or {}, min_inspectors)
    keyed = []
    for item in pool:
        code = str(item["code"])
        u = _unit(key, "target", code)
        keyed.append((u ** (1.0 / _weight(item, weights, default_weight)), code, item))
    keyed.sort(key=lambda k: (-k[0], k[1]))
    sample = []
    for _, code, item in keyed[: sample_size(len(pool), ratio)]:
        ranked = sorted(eligible[code], key=functools.partial(_key, key, "inspector", code))
        sample.append(
            {
                "outfall_code": code,
                "sub_type": item.get("sub_type"),
                "county": item.get("county"),
                "inspectors": sorted(ranked[:min_inspectors]),
            }
        )
    return sample


def spot_check_weights(reference: Mapping[str, Any]) -> dict[str, float]:
    """``spot_check_weight`` of every sub-type in config/reference/outfall_types.yaml."""
    return {
        str(s["code"]): float(s.get("spot_check_weight", 1) or 1) for s in ref.sub_types(reference)
    }
