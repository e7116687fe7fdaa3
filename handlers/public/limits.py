"""Flood protection of the 随手拍 form: how many reports a client address may file, and the
errors people meet when the protection refuses them.

- **Rate limits**: at most ``per_hour`` reports in any hour and ``per_day`` in any day from one
  client address (an IPv6 address counts by its /64 network, which one household or phone
  holds). The address is kept only as a keyed hash (HMAC-SHA-256 under the ``public_addresses``
  key of ``engine.keys``: an address is personal data); the reports are counted in the database
  (``public_report_hits``), so every server process shares the count, and on the engine's clock
  (``engine.clock``), so tests drive it. A refusal is 429 with ``Retry-After``.
- **The challenge** (``handlers.public.challenge``): its difficulty ``bits`` and its lifetime.

``ReportLimits.from_environment`` reads the settings (``QINGLIU_REPORT_PER_HOUR``,
``QINGLIU_REPORT_PER_DAY``, ``QINGLIU_REPORT_BITS``, ``QINGLIU_REPORT_CHALLENGE_MINUTES``);
a test sets ``app.state.report_limits`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.errors import ConfigError, NotFound, RequestError
from engine.runtime import Engine

__all__ = [
    "ChallengeRefused",
    "ReceiptNotFound",
    "ReportLimits",
    "Solved",
    "TooManyReports",
    "address_key",
    "check_rate",
    "limits_of",
    "release",
    "reserve",
]

ADDRESS_KEY = "public_addresses"
HOUR = timedelta(hours=1)
REUSED = "此表单已提交过，请勿重复提交；如需再次举报请重新填写 (the challenge was used before)"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class ReportLimits:
    per_hour: int = 5
    per_day: int = 20
    bits: int = 15  # leading zero bits of the challenge: ~33 000 hashes, about 0.5 s on a phone
    challenge_minutes: int = 30  # time to fill the form in

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ReportLimits:
        env = os.environ if env is None else env
        default = cls()
        values: dict[str, int] = {}
        for name, variable in (
            ("per_hour", "QINGLIU_REPORT_PER_HOUR"),
            ("per_day", "QINGLIU_REPORT_PER_DAY"),
            ("bits", "QINGLIU_REPORT_BITS"),
            ("challenge_minutes", "QINGLIU_REPORT_CHALLENGE_MINUTES"),
        ):
            given = env.get(variable)
            if given is None or given == "":
                values[name] = getattr(default, name)
            elif given.isdigit() and 0 <= int(given) <= (32 if name == "bits" else 100_000):
                values[name] = int(given)
            else:
                raise ConfigError(
                    f"{variable} must be a whole number (bits: 0 to 32), not {given!r}"
                )
        return cls(**values)


def limits_of(state: Any) -> ReportLimits:
    """The limits of an app (``request.app.state``), read from the environment once."""
    found: ReportLimits | None = getattr(state, "report_limits", None)
    if found is None:
        found = state.report_limits = ReportLimits.from_environment()
    return found


@dataclass(frozen=True)
class Solved:
    """A challenge whose work is done (``handlers.public.challenge``): its digest, recorded
    once used, and its expiry."""

    digest: str
    expires_at: datetime


class TooManyReports(RequestError):
    """The address filed its reports of the hour or the day; ``retry_after`` seconds to wait."""

    status, kind, exit_code = 429, "too-many-reports", 4
    title = "Too many reports from this address"

    def __init__(self, retry_after: int, limit: int, window: str) -> None:
        self.retry_after = retry_after
        self.limit = limit
        self.window = window  # "小时" or "天"
        super().__init__(
            f"提交过于频繁：同一网络每{window}最多提交 {limit} 件，请 {_wait(retry_after)}后再试 "
            f"(at most {limit} reports per {'hour' if window == '小时' else 'day'}: "
            f"try again in {retry_after} s)"
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ChallengeRefused(RequestError):
    """The form's proof of work is missing, forged, expired or used before."""

    status, kind, exit_code = 403, "challenge-refused", 4
    title = "The form's challenge was refused"


class ReceiptNotFound(NotFound):
    """No report has this receipt code (or it is not one)."""

    status, kind, exit_code = 404, "receipt-not-found", 3
    title = "No such receipt"

    def __init__(self) -> None:
        super().__init__("没有这个回执码的举报，请核对后重新输入 (no report has this receipt code)")


def _wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} 分钟"
    return f"{math.ceil(seconds / 3600)} 小时"


def address_key(engine: Engine, address: str) -> str:
    """The keyed hash an address is counted under (an IPv6 address by its /64 network)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        network = str(parsed)
        if parsed.version == 6:
            network = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    key = engine.keys.get(ADDRESS_KEY)
    return hmac.new(key, network.encode(), hashlib.sha256).hexdigest()


def reserve(engine: Engine, limits: ReportLimits, address: str, solved: Solved) -> int:
    """Count a report from ``address`` now, in one write: ``TooManyReports`` when the hour's or
    the day's are filed, ``ChallengeRefused`` when the challenge was used before. The hit's id
    (``release`` it when the report is not opened after all). The write holds the address's
    lock (``lock_report_address``), so concurrent reports of one address count in turn."""
    key = address_key(engine, address)
    now = engine.clock.now()
    with engine.store.write() as tx:
        tx.lock_report_address(key)  # concurrent reports of one address: one at a time
        _count(tx, limits, key, now)
        if not tx.use_challenge(solved.digest, solved.expires_at, now):
            raise ChallengeRefused(REUSED)
        tx.forget_report_hits(now - DAY)
        return tx.insert_report_hit(key, now)


def _count(tx: Any, limits: ReportLimits, key: str, now: datetime) -> None:
    for window, limit, span in (("小时", limits.per_hour, HOUR), ("天", limits.per_day, DAY)):
        count, oldest = tx.report_hits(key, now - span)
        if count >= limit:
            wait = (oldest + span - now).total_seconds() if oldest is not None else 1
            raise TooManyReports(max(1, math.ceil(wait)), limit, window)


def check_rate(engine: Engine, limits: ReportLimits, address: str) -> None:
    """``TooManyReports`` when ``address`` filed the hour's or the day's already (a read, before
    the form's body is taken; ``reserve`` counts again, under the address's lock)."""
    with engine.store.read() as tx:
        _count(tx, limits, address_key(engine, address), engine.clock.now())


def release(engine: Engine, hit_id: int) -> None:
    """The report was not opened (its input was refused): it does not count."""
    with engine.store.write() as tx:
        tx.delete_report_hit(hit_id)
