"""Two schedulers sweeping the same database at the same time fire each due timer exactly once.

Each sweeper is a thread with its own Engine, Store and connection pool on the same database
file (or PostgreSQL schema), as two scheduler processes would be."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.time.sweep import Firing, sweep
from tests.conftest import START
from tests.timekit import timer_engine

CASES = 40


def _sweeper(engine: Engine, barrier: threading.Barrier, out: list[Firing]) -> None:
    barrier.wait()
    while True:
        result = sweep(engine, limit=3)  # small batches: the two sweeps interleave
        out.extend(result.firings)
        if not result.firings:
            return


def test_two_concurrent_sweeps_fire_each_due_timer_exactly_once(settings: Settings) -> None:
    clock = FakeClock(START)
    setup = timer_engine(settings, clock)
    admin = Actor("t", "admin")
    ids = [setup.create_case("ladder", {"deadline": "2024-03-01"}, admin).id for _ in range(CASES)]
    setup.store.dispose()

    later = START + timedelta(hours=20)  # every case's overdue timer is due, nothing else
    engines = [build_engine(settings, clock=FakeClock(later)) for _ in range(2)]
    outs: list[list[Firing]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            _sweeper(engines[i], barrier, outs[i])
        except BaseException as exc:  # surfaced below: a thread must not swallow a failure
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    fired = [f for out in outs for f in out if f.outcome == "fired"]
    assert sorted(f.case_id for f in fired) == sorted(ids)
    assert Counter(f.timer_id for f in fired).most_common(1)[0][1] == 1
    assert all(f.outcome in ("fired", "taken") for out in outs for f in out)

    check = engines[0]
    for case_id in ids:
        events = check.history(case_id)
        assert [e.trigger for e in events if e.kind == "transition"] == ["overdue"]
        assert check.get_case(case_id).state == "notice"
    assert check.verify_audit() == []
    assert sweep(check).firings == []
    for engine in engines:
        engine.store.dispose()
