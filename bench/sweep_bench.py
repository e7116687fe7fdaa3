"""Sweep benchmark: the time to fire 1,000 due timers among 10k and among 1M timer rows.

    .venv/bin/python -m bench.sweep_bench              # 10k vs 1M rows (~5 minutes, mostly setup)
    .venv/bin/python -m bench.sweep_bench --quick      # 10k vs 100k rows, a smoke test
    .venv/bin/python -m bench.sweep_bench --repeat 5   # more batches, steadier medians

Each size gets a fresh SQLite file (WAL, synchronous=NORMAL, one transaction per timer).
``--repeat`` x 1,000 real cases are created through the engine; each arms one timer (``after:
1 hours``, batch k due at START + k+1 hours) that the sweep fires as a real transition. The other
rows are bulk-inserted with SQLAlchemy Core on 10,000 filler cases: 60% history (fired,
cancelled, skipped) and 40% pending with due times in the coming year, as a production table
would look. Each sweep runs when exactly one batch of 1,000 timers is due; the batches are swept
alternately on both databases (so load on the machine hits both alike) and the medians compared.
The claim is an index range scan on pending due times (SQLite picks ``ix_timers_status_due``;
the partial ``ix_timers_pending_due`` serves the same query), O(log n) per timer, so the ratio
should stay near 1. Prints both times, their ratio, the claim query's plan, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from engine.clock import FakeClock
from engine.handlers import Actor, Registry
from engine.runtime import Engine
from engine.store import migrate
from engine.store.repository import Store
from engine.store.tables import cases, timers
from engine.time.sweep import sweep

DUE = 1000
START = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
FILLER_CASES = 10_000
CHUNK = 20_000

WORKFLOW = """
name: bench_timer
title: 计时基准
roles: [clerk]
initial: waiting
states:
  waiting: {title: 等待}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: waiting, dest: done}
timers:
  waiting:
    - {fires: finish, after: 1 hours}
"""


def _filler_cases(store: Store, definition_id: int) -> list[int]:
    row = {
        "definition_id": definition_id,
        "workflow": "bench_timer",
        "workflow_version": 1,
        "state": "waiting",
        "data": {},
        "version": 1,
        "subject": None,
        "jurisdiction": None,
        "is_open": True,
        "last_hash": "0" * 64,
        "created_at": START,
        "updated_at": START,
    }
    with store.write() as tx:
        first = tx.conn.execute(select(cases.c.id).order_by(cases.c.id.desc()).limit(1)).scalar()
        tx.conn.execute(insert(cases), [row] * FILLER_CASES)
    return list(range(int(first or 0) + 1, int(first or 0) + 1 + FILLER_CASES))


def _filler_timer(i: int, case_id: int) -> dict[str, Any]:
    kind = i % 10
    if kind < 6:  # history: fired, cancelled or skipped long ago
        status = ("fired", "cancelled", "skipped")[kind % 3]
        due = START - timedelta(days=1 + i % 700)
        fired = due if status != "cancelled" else None
    else:  # pending, due some time in the coming year
        status, due, fired = "pending", START + timedelta(days=1, minutes=i % 525_600), None
    return {
        "case_id": case_id,
        "name": "filler",
        "trigger": "finish",
        "state": "waiting",
        "deadline": None,
        "due_at": due,
        "status": status,
        "payload": {},
        "catch_up": "fire",
        "every": None,
        "provisional": False,
        "created_at": START - timedelta(days=800),
        "fired_at": fired,
        "base_at": None,
        "duration": None,
        "remaining_seconds": None,
        "remaining_working_days": None,
    }


def _fill(store: Store, filler: list[int], count: int) -> None:
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        rows = [_filler_timer(done + i, filler[(done + i) % len(filler)]) for i in range(size)]
        with store.write() as tx:
            tx.conn.execute(insert(timers), rows)
        done += size


def _plan(store: Store, now: datetime) -> str:
    with store.read() as tx:
        query = (
            select(timers)
            .where(timers.c.status == "pending", timers.c.due_at <= now)
            .order_by(timers.c.due_at, timers.c.id)
            .limit(1)
        )
        compiled = query.compile(tx.conn, compile_kwargs={"literal_binds": False})
        params = {k: v for k, v in compiled.params.items()}
        sql = f"EXPLAIN QUERY PLAN {compiled}"
        rows = tx.conn.exec_driver_sql(sql, tuple(params.values())).all()
        return "; ".join(str(r[-1]) for r in rows)


@dataclass
class Database:
    rows: int
    store: Store
    engine: Engine
    clock: FakeClock
    seconds: list[float] = field(default_factory=list)
    plan: str = ""


def build(folder: Path, total_rows: int, batches: int) -> Database:
    """A database with ``batches`` x 1,000 real cases (batch k's timers due at START + k+1
    hours) and filler rows up to ``total_rows`` timers."""
    store = Store(f"sqlite:///{folder / f'sweep_{total_rows}.db'}")
    migrate.upgrade(store)
    clock = FakeClock(START)
    engine = Engine(store, Registry(), clock=clock)
    engine.publish(WORKFLOW)
    clerk = Actor("bench", "clerk")
    for batch in range(batches):
        clock.set(START + timedelta(hours=batch))
        for _ in range(DUE):
            engine.create_case("bench_timer", {}, clerk)
    definition_id = engine.definition("bench_timer")[0].id
    filler = _filler_cases(store, definition_id)
    _fill(store, filler, total_rows - DUE * batches)
    with store.write() as tx:
        tx.conn.execute(text("ANALYZE"))
        count = tx.conn.execute(select(text("count(*)")).select_from(timers)).scalar()
    return Database(int(count or 0), store, engine, clock)


def sweep_batch(db: Database, batch: int) -> None:
    now = START + timedelta(hours=batch + 1, minutes=30)
    db.clock.set(now)
    db.plan = db.plan or _plan(db.store, now)
    began = time.perf_counter()
    result = sweep(db.engine, now=now, limit=DUE * 2)
    db.seconds.append(time.perf_counter() - began)
    if result.count("fired") != DUE:
        raise SystemExit(f"expected {DUE} firings among {db.rows} rows: {result.count('fired')}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k vs 100k rows")
    parser.add_argument("--repeat", type=int, default=3, help="sweeps per size (median)")
    args = parser.parse_args(argv)
    sizes = (10_000, 100_000) if args.quick else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        small, large = (build(Path(folder), n, args.repeat) for n in sizes)
        for batch in range(args.repeat):  # alternate, so load on the machine hits both alike
            for db in (small, large) if batch % 2 == 0 else (large, small):
                sweep_batch(db, batch)
        for db in (small, large):
            db.store.dispose()
    medians = [statistics.median(db.seconds) for db in (small, large)]
    ratio = medians[1] / medians[0]
    for db, median in zip((small, large), medians, strict=True):
        runs = ", ".join(f"{s:.2f}" for s in db.seconds)
        print(
            f"{db.rows:>9,} timer rows: {DUE} due timers fired in {median:.3f} s median "
            f"({median / DUE * 1e6:.0f} us per timer; runs: {runs})"
        )
    print(f"ratio large/small: {ratio:.2f}")
    print(f"claim query plan: {large.plan}")
    print(
        json.dumps(
            {
                "bench": "sweep",
                "due": DUE,
                "rows": [small.rows, large.rows],
                "seconds": [round(m, 4) for m in medians],
                "ratio": round(ratio, 3),
                "repeat": args.repeat,
                "python": sys.version.split()[0],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
