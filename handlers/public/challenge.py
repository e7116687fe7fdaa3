"""The offline challenge of the 随手拍 form: a proof of work against scripted floods.

The form carries a challenge the server issued and signed::

    v1.<expires: unix seconds>.<bits>.<random hex>.<HMAC-SHA-256 of the rest, hex>

The browser (``static/report.js``, with the pure-JavaScript SHA-256 of ``static/sha256.js``:
``crypto.subtle`` is missing on plain-http intranet pages) counts ``nonce`` = 0, 1, 2, ...
until ``SHA-256(challenge + ":" + nonce)`` begins with ``bits`` zero bits (15 by default: about
33 000 hashes on average, 0.2 s in headless Chromium on the CI machine, roughly half a second
on a phone), and sends the nonce with the form. The server checks
the signature (key ``public_challenge`` of ``engine.keys``), the expiry (on ``engine.clock``),
that ``bits`` is at least the configured difficulty and the work; ``limits.reserve`` then
records the challenge's digest, so each challenge files at most one report.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from engine.runtime import Engine
from handlers.public.limits import ChallengeRefused, ReportLimits, Solved

__all__ = ["Solved", "check", "issue", "solve", "works"]

KEY = "public_challenge"
VERSION = "v1"
MAX_NONCE = 20  # digits

_MISSING = "安全校验未完成：请启用浏览器的 JavaScript 后重新提交 (no proof of work sent)"
_FORGED = "安全校验无效，请重新提交 (the challenge is not one this server issued)"
_EXPIRED = "页面已过期，请重新提交 (the challenge expired)"
_WEAK = "安全校验未通过，请重新提交 (the nonce does not solve the challenge)"


def _sign(engine: Engine, body: str) -> str:
    return hmac.new(engine.keys.get(KEY), body.encode(), hashlib.sha256).hexdigest()


def issue(engine: Engine, limits: ReportLimits) -> str:
    """A new challenge of ``limits.bits``, valid ``limits.challenge_minutes`` from now."""
    expires = engine.clock.now() + timedelta(minutes=limits.challenge_minutes)
    body = f"{VERSION}.{int(expires.timestamp())}.{limits.bits}.{secrets.token_hex(12)}"
    return f"{body}.{_sign(engine, body)}"


def works(challenge: str, nonce: str, bits: int) -> bool:
    """``SHA-256(challenge:nonce)`` begins with ``bits`` zero bits."""
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0 if bits else True


def solve(challenge: str) -> str:
    """The first nonce that solves ``challenge`` (as the browser finds it; for tests)."""
    bits = int(challenge.split(".")[2])
    nonce = 0
    while not works(challenge, str(nonce), bits):
        nonce += 1
    return str(nonce)


def check(engine: Engine, limits: ReportLimits, challenge: str, nonce: str) -> Solved:
    """The challenge, signed here, unexpired, of enough bits and solved by ``nonce``; else
    ``ChallengeRefused`` saying why. (Whether it was used before, ``limits.reserve`` says.)"""
    if not challenge or not nonce:
        raise ChallengeRefused(_MISSING)
    parts = challenge.split(".")
    if len(parts) != 5 or parts[0] != VERSION or not parts[1].isdigit() or not parts[2].isdigit():
        raise ChallengeRefused(_FORGED)
    body, signature = challenge.rsplit(".", 1)
    if not hmac.compare_digest(_sign(engine, body).encode(), signature.encode()):
        raise ChallengeRefused(_FORGED)
    expires = datetime.fromtimestamp(int(parts[1]), UTC)
    if expires <= engine.clock.now():
        raise ChallengeRefused(_EXPIRED)
    bits = int(parts[2])
    if bits < limits.bits:  # issued before the difficulty was raised
        raise ChallengeRefused(_EXPIRED)
    if not (nonce.isdigit() and len(nonce) <= MAX_NONCE) or not works(challenge, nonce, bits):
        raise ChallengeRefused(_WEAK)
    return Solved(hashlib.sha256(challenge.encode()).hexdigest(), expires)
