"""Four worker processes and two scheduler processes on one PostgreSQL database at once.

The workers advance 1,000 cases through three states (4 transitions each) and add a note to
each of 1,000 other cases while two schedulers fire those cases' 5,000 due timers (five per
case, so the two sweeps and the workers all contend for the same case rows). Afterwards every
timer has fired exactly once, every case's history is contiguous and complete, and replaying
it gives the stored state."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.handlers import Actor
from engine.settings import Settings, build_engine
from engine.store.tables import timers
from tests.conftest import ROOT, START
from tests.postgres import procs

pytestmark = pytest.mark.postgres

FIXTURES = ROOT / "tests" / "fixtures" / "backend"
CASES = 1000  # of each workflow
WORKERS = 4
SCHEDULERS = 2
DEADLINE_S = 600  # the whole run; a hang fails the test instead of stalling CI
ADMIN = Actor("setup", "admin")


def _setup(settings: Settings) -> tuple[list[int], list[int]]:
    from engine.clock import FakeClock

    engine = build_engine(settings, clock=FakeClock(START))
    engine.load([Path(FIXTURES)])
    with engine.transaction(ADMIN) as (_tx, ops):
        steps = [ops.open_case("mp_steps", {"worker": i % WORKERS}) for i in range(CASES)]
        ticking = [ops.open_case("mp_ticking", {}) for _ in range(CASES)]
    engine.store.dispose()
    return steps, ticking


def _run(settings: Settings, steps: list[int], ticking: list[int]) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    later = START + timedelta(days=1)  # all five timers of every ticking case are due
    barrier = ctx.Barrier(WORKERS + SCHEDULERS)
    workers_done = ctx.Event()
    out: Any = ctx.Queue()
    processes = [
        ctx.Process(
            target=procs.worker,
            args=(settings, later, steps[w::WORKERS], ticking[w::WORKERS], barrier, out),
        )
        for w in range(WORKERS)
    ] + [
        ctx.Process(target=procs.scheduler, args=(settings, later, barrier, workers_done, out))
        for _ in range(SCHEDULERS)
    ]
    for process in processes:
        process.start()
    reports = [out.get(timeout=DEADLINE_S) for _ in range(WORKERS)]
    workers_done.set()
    reports += [out.get(timeout=DEADLINE_S) for _ in range(SCHEDULERS)]
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return reports


def test_workers_and_schedulers_on_one_database(settings: Settings) -> None:
    steps, ticking = _setup(settings)
    reports = _run(settings, steps, ticking)
    assert [r.get("error") for r in reports] == [None] * len(reports)

    workers = [r for r in reports if r["role"] == "worker"]
    assert sum(r["transitions"] for r in workers) == CASES * len(procs.STEPS) + CASES
    fired = Counter(t for r in reports if r["role"] == "scheduler" for t in r["fired"])
    assert len(fired) == 5 * CASES
    assert set(fired.values()) == {1}  # no timer fired twice
    assert all(r["fired"] for r in reports if r["role"] == "scheduler")  # both took a share

    engine = build_engine(settings)
    try:
        with engine.store.read() as tx:
            counts = tx.conn.execute(
                select(timers.c.status, func.count()).group_by(timers.c.status)
            )
            statuses = {status: count for status, count in counts}
            assert statuses == {"fired": 5 * CASES}
        fired_by_events: Counter[int] = Counter()
        for case_id in steps + ticking:
            row, replayed = engine.replay(case_id)
            assert replayed.problems == []
            assert replayed.matches(row)
            events = engine.history(case_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert row.version == len(events)
            if case_id in ticking:
                ticks = [e for e in events if e.trigger == "tick"]
                assert (len(ticks), row.state) == (5, "waiting")
                assert len(events) == 1 + 5 + 1  # created, five ticks, one note
                fired_by_events.update(e.payload["_timer"]["id"] for e in ticks)
            else:
                assert [e.trigger for e in events[1:]] == [t for t, _ in procs.STEPS]
                assert row.state == "closed"
        assert fired_by_events == fired
        assert engine.verify_audit() == []
    finally:
        engine.store.dispose()
