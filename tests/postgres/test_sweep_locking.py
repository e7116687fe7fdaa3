"""Timer claims on PostgreSQL: a sweep passes over a case that another sweep or writer holds
(``FOR UPDATE OF cases SKIP LOCKED``) instead of waiting for it, and writers lock a case before
its timers, so two sweeps never deadlock. Every engine here has a 2 s lock timeout: a sweep that
waited on a lock would fail with a database error (a ``retry`` firing), not hang."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import make_url

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.time.sweep import Firing, sweep
from tests.conftest import ROOT, START

pytestmark = pytest.mark.postgres

CASES = 40
LATER = START + timedelta(hours=2)  # both timers of every case are due


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
def racing(settings: Settings) -> Iterator[tuple[list[int], list[Engine]]]:
    """CASES cases with two due timers each; two impatient engines at LATER."""
    setup = build_engine(settings, clock=FakeClock(START))
    setup.load([ROOT / "tests" / "fixtures" / "backend" / "racing.yaml"])
    ids = [setup.create_case("mp_racing", {}, Actor("t", "admin")).id for _ in range(CASES)]
    setup.store.dispose()
    engines = [build_engine(_impatient(settings), clock=FakeClock(LATER)) for _ in range(2)]
    yield ids, engines
    for engine in engines:
        engine.store.dispose()


def test_two_sweeps_take_different_cases_and_never_deadlock(
    racing: tuple[list[int], list[Engine]],
) -> None:
    ids, engines = racing
    outs: list[list[Firing]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            barrier.wait()
            while True:
                result = sweep(engines[i], limit=1)  # one timer per call: maximal interleaving
                outs[i].extend(result.firings)
                if not result.firings:
                    return
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    outcomes = Counter(f.outcome for out in outs for f in out)
    # No retry (a deadlock or lock timeout) and no skip. "taken": a sweep read a timer that the
    # other one had just cancelled by firing its twin, and left it alone.
    assert set(outcomes) <= {"fired", "taken"}
    fired = [f for out in outs for f in out if f.outcome == "fired"]
    assert sorted(f.case_id for f in fired) == ids  # one firing per case
    for case_id in ids:
        view = engines[0].get_case(case_id)
        assert view.state == "done"
        assert [e.trigger for e in engines[0].history(case_id)] == [None, "leave"]


def test_a_sweep_passes_over_a_case_that_a_writer_holds(
    racing: tuple[list[int], list[Engine]],
) -> None:
    ids, (holder, sweeper) = racing
    held = ids[0]
    with holder.store.write() as tx:
        assert tx.lock_case(held) is not None  # a long transaction on one case
        first = sweep(sweeper)
    assert Counter(f.outcome for f in first.firings) == {"fired": CASES - 1}
    assert held not in {f.case_id for f in first.firings}
    assert sweeper.get_case(held).state == "waiting"
    second = sweep(sweeper)  # the next tick, once the lock is gone
    assert [(f.case_id, f.outcome) for f in second.firings] == [(held, "fired")]
    assert sweep(sweeper).firings == []
