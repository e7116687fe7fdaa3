"""The rate limit of 随手拍 under concurrent reports from one address, on the test backend
(SQLite, or PostgreSQL with ``QINGLIU_TEST_DATABASE``): threads that file at once never get
past the limit together, because ``limits.reserve`` takes the address's lock before it counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from engine.clock import FakeClock
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from handlers.public.limits import (
    HOUR,
    ReportLimits,
    Solved,
    TooManyReports,
    address_key,
    reserve,
)
from tests.conftest import START

THREADS = 6
ADDRESS = "203.0.113.9"


@pytest.fixture
def engines(settings: Settings) -> Iterator[list[Engine]]:
    """THREADS engines on one database, as many server processes are."""
    found = [build_engine(settings, clock=FakeClock(START)) for _ in range(THREADS)]
    for engine in found:  # the address key exists before the race (it is made on first use)
        address_key(engine, ADDRESS)
    yield found
    for engine in found:
        engine.store.dispose()


def test_concurrent_reports_from_one_address_pass_the_limit_only_as_often_as_it_allows(
    engines: list[Engine],
) -> None:
    limits = ReportLimits(per_hour=2, per_day=20)
    barrier = threading.Barrier(THREADS)
    passed: list[int] = []
    refused: list[TooManyReports] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        solved = Solved(f"{i:064x}", START.replace(year=START.year + 1))
        try:
            barrier.wait()
            passed.append(reserve(engines[i], limits, ADDRESS, solved))
        except TooManyReports as error:
            refused.append(error)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(passed) == 2
    assert len(refused) == THREADS - 2
    with engines[0].store.read() as tx:
        key = address_key(engines[0], ADDRESS)
        assert tx.report_hits(key, START - HOUR)[0] == 2  # the refused left no hit behind
