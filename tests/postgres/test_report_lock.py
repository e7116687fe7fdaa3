"""The 随手拍 rate limit on PostgreSQL: while one transaction holds an address's lock (as
``limits.reserve`` does from its count to its commit), another report from that address waits
for it instead of counting past the uncommitted hit. The waiting engine has a 2 s lock
timeout, so the wait ends in a database error instead of hanging the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from engine.clock import FakeClock
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from handlers.public.limits import ReportLimits, Solved, TooManyReports, address_key, reserve
from tests.conftest import START

pytestmark = pytest.mark.postgres

ADDRESS = "203.0.113.7"
LIMITS = ReportLimits(per_hour=1)


def _impatient(settings: Settings) -> Settings:
    url = make_url(settings.database_url)
    options = f"{url.query.get('options', '')} -c lock_timeout=2000".strip()
    return Settings(
        config_dir=settings.config_dir,
        database_url=url.update_query_dict({"options": options}).render_as_string(False),
        handlers=settings.handlers,
        workflows=settings.workflows,
        reference=settings.reference,
    )


@pytest.fixture
def pair(settings: Settings) -> Iterator[tuple[Engine, Engine]]:
    holder = build_engine(settings, clock=FakeClock(START))
    waiter = build_engine(_impatient(settings), clock=FakeClock(START))
    yield holder, waiter
    for engine in (holder, waiter):
        engine.store.dispose()


def _solved(n: int) -> Solved:
    return Solved(f"{n:064x}", START.replace(year=START.year + 1))


def test_a_report_waits_for_another_of_its_address_instead_of_counting_past_it(
    pair: tuple[Engine, Engine],
) -> None:
    holder, waiter = pair
    key = address_key(holder, ADDRESS)
    with holder.store.write() as tx:  # the first report, between its count and its commit
        tx.lock_report_address(key)
        tx.insert_report_hit(key, START)
        with pytest.raises(OperationalError, match="lock timeout"):
            reserve(waiter, LIMITS, ADDRESS, _solved(1))
    with pytest.raises(TooManyReports):  # once the first is committed, it counts
        reserve(waiter, LIMITS, ADDRESS, _solved(2))
    other = address_key(holder, "198.51.100.1")
    with holder.store.write() as tx:  # another address's lock does not hold this one up
        tx.lock_report_address(other)
        assert reserve(waiter, LIMITS, "192.0.2.5", _solved(3)) > 0
