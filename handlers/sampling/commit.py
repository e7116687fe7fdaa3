"""Commit-reveal for the 双随机 draw: the secret, the commitment, and the verifier.

When the city draws, the system makes a secret (32 bytes of ``secrets.token_bytes``: the
operating system's randomness, never the clock nor a caller's number) and, before deriving the
targets from it, records the **commitment** in the case for everyone who reads it:

- ``pool_sha256``: SHA-256 of the pool in canonical form, the JSON array of the outfall codes
  sorted and without duplicates (``json.dumps(sorted(codes), ensure_ascii=False,
  separators=(",", ":"))``, UTF-8);
- ``secret_sha256``: SHA-256 of the secret's bytes.

The secret itself stays in the case's confidential field ``draw_secret``, which no role reads
(sealed at rest like every confidential field), until the city reports the inspection's
results: then it is revealed in ``data.spot_check.secret`` and in ``data.publication``. So the
city is bound to the draw while the targets are hidden (another target list would need a secret
with the committed hash), and after the reveal anyone can check that the targets are the ones
the secret draws from the committed pool: ``verify_draw`` here, ``qingliu sample verify``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.sampling.draw import DRAW_VERSION, SamplingError, draw_sample

__all__ = [
    "SECRET_BYTES",
    "Verification",
    "commitment",
    "new_secret",
    "pool_digest",
    "secret_digest",
    "verify_draw",
]

SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh secret for one draw, hexadecimal."""
    return secrets.token_bytes(SECRET_BYTES).hex()


def pool_digest(codes: Iterable[Any]) -> str:
    """SHA-256 of the canonical pool: the sorted, distinct outfall codes as compact JSON."""
    canonical = json.dumps(
        sorted({str(c) for c in codes}), ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def secret_digest(secret: str) -> str:
    """SHA-256 of the secret's bytes (the secret is hexadecimal)."""
    try:
        raw = bytes.fromhex(secret)
    except ValueError as exc:
        raise SamplingError("the draw's secret must be hexadecimal") from exc
    return hashlib.sha256(raw).hexdigest()


def commitment(codes: Iterable[Any], secret: str) -> dict[str, str]:
    return {"pool_sha256": pool_digest(codes), "secret_sha256": secret_digest(secret)}


@dataclass(frozen=True)
class Verification:
    """What ``verify_draw`` found: ``ok`` when there is no problem."""

    problems: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] | None = None  # the targets the secret draws, if it could

    @property
    def ok(self) -> bool:
        return not self.problems


def _redraw(record: Mapping[str, Any], secret: str) -> list[dict[str, Any]]:
    return draw_sample(
        record["pool"],
        record["inspectors"],
        secret,
        float(record["ratio"]),
        record["weights"],
        min_inspectors=int(record["min_inspectors"]),
        conflicts=record.get("conflicts") or {},
    )


def verify_draw(record: Mapping[str, Any]) -> Verification:
    """Re-check a revealed draw: ``record`` is a case's ``data.publication`` (or anything with
    its keys: ``commitment``, ``secret``, ``pool``, ``inspectors``, ``conflicts``, ``ratio``,
    ``min_inspectors``, ``weights``, ``targets``). The secret must match its hash, the pool its
    hash, and the targets must be the ones the secret draws from the pool."""
    version = record.get("draw_version", DRAW_VERSION)
    if version != DRAW_VERSION:
        return Verification([f"draw version {version} has no commitment to verify"])
    secret = record.get("secret")
    if not isinstance(secret, str) or not secret:
        return Verification(["the secret is not revealed yet"])
    promised = record.get("commitment") or {}
    problems = []
    try:
        if secret_digest(secret) != promised.get("secret_sha256"):
            problems.append("the revealed secret does not match the commitment")
        if pool_digest(p["code"] for p in record["pool"]) != promised.get("pool_sha256"):
            problems.append("the pool does not match the commitment")
        targets = _redraw(record, secret)
    except SamplingError as exc:
        return Verification([*problems, f"the draw cannot be repeated: {exc}"])
    except (KeyError, TypeError, ValueError) as exc:
        return Verification([*problems, f"the record is incomplete or malformed: {exc!r}"])
    if targets != record.get("targets"):
        problems.append("the recorded targets are not the ones the secret draws")
    return Verification(problems, targets)
