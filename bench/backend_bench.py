"""Backend benchmark: ``Engine.fire`` transitions per second on SQLite and on PostgreSQL, with
1, 2 and 4 worker processes writing at the same time (each on its own cases).

    .venv/bin/python -m bench.backend_bench            # ~2-4 minutes
    .venv/bin/python -m bench.backend_bench --quick    # smoke test, under a minute

The workload is ``bench/workload.py`` (5 guarded transitions with an action and a payload
schema per case). For each backend and worker count: a new database (a SQLite file; a new
schema on the PostgreSQL server), ``--cases`` cases created up front, then the workers (spawned
processes, each with its own engine and connection pool) fire the five steps on their share of
the cases, breadth-first, one transaction per transition. The time runs from the moment all
workers are ready to the moment the last one is done.

PostgreSQL: the server in ``QINGLIU_BENCH_DATABASE`` (or ``--pg-url``), else a private one that
``.ci/postgres.sh`` starts on port 54339 with durable settings (fsync and synchronous_commit
on) and stops afterwards. SQLite: WAL, synchronous=NORMAL, ``BEGIN IMMEDIATE`` per transition.
Prints a table, then one line ``{"bench": "backend", ...}`` of JSON figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bench.pg import postgres_databases, postgres_server, server_settings
from bench.workload import (
    ACTOR,
    DEFINITION,
    PAYLOAD,
    REGISTRY,
    SCOPE_PARENTS,
    TRIGGERS,
    case_data,
    machine_info,
)
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store

WORKERS = (1, 2, 4)


def _engine(url: str) -> Engine:
    return Engine(Store(url), REGISTRY, scope=Scope(SCOPE_PARENTS))


def _worker(url: str, ids: list[int], barrier: Barrier, out: Any) -> None:
    engine = _engine(url)
    try:
        engine.get_case(ids[0])  # connect and compile the workflow before the clock starts
        barrier.wait(timeout=300)
        for trigger in TRIGGERS:
            for case_id in ids:
                engine.fire(case_id, trigger, ACTOR, PAYLOAD)
        out.put(("done", len(ids) * len(TRIGGERS)))
    except BaseException as exc:  # reported to the parent, which fails the run
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.store.dispose()


def _prepare(url: str, cases: int) -> list[int]:
    store = Store(url)
    migrate.upgrade(store)
    engine = Engine(store, REGISTRY, scope=Scope(SCOPE_PARENTS))
    engine.publish(DEFINITION, "bench")
    ids = [engine.create_case("bench_approval", case_data(i), ACTOR).id for i in range(cases)]
    store.dispose()
    return ids


def _run(url: str, cases: int, workers: int) -> dict[str, Any]:
    ids = _prepare(url, cases)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    out = ctx.Queue()
    processes = [
        ctx.Process(target=_worker, args=(url, ids[w::workers], barrier, out))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    results = [out.get(timeout=1800) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join(timeout=60)
    errors = [detail for kind, detail in results if kind == "error"]
    if errors:
        raise SystemExit(f"a worker failed: {errors[0]}")
    transitions = sum(int(count) for _, count in results)
    return {
        "workers": workers,
        "transitions": transitions,
        "seconds": round(elapsed, 3),
        "tps": round(transitions / elapsed, 1),
    }


@contextmanager
def _sqlite_databases() -> Iterator[Any]:
    with tempfile.TemporaryDirectory(prefix="qingliu-backend-bench-") as folder:

        def fresh(label: str) -> str:
            return f"sqlite:///{Path(folder) / f'{label}.db'}"

        yield fresh


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'backend':<12}{'workers':>8}{'transitions':>13}{'seconds':>10}{'tps':>10}{'x1':>7}"]
    base: dict[str, float] = {}
    for row in rows:
        base.setdefault(row["backend"], row["tps"])
        ratio = row["tps"] / base[row["backend"]]
        lines.append(
            f"{row['backend']:<12}{row['workers']:>8}{row['transitions']:>13}"
            f"{row['seconds']:>10.2f}{row['tps']:>10.1f}{ratio:>7.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per run (default 1000)")
    parser.add_argument("--quick", action="store_true", help="200 cases: a smoke test")
    parser.add_argument("--pg-url", default=os.environ.get("QINGLIU_BENCH_DATABASE"))
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    cases = 200 if args.quick else args.cases
    rows: list[dict[str, Any]] = []
    figures: dict[str, Any] = {"bench": "backend", "cases": cases, "machine": machine_info()}
    with _sqlite_databases() as fresh:
        for workers in WORKERS:
            rows.append({"backend": "sqlite", **_run(fresh(f"w{workers}"), cases, workers)})
            print(f"sqlite, {workers} worker(s): {rows[-1]['tps']} tps", flush=True)
    figures["sqlite_settings"] = {"journal_mode": "WAL", "synchronous": "NORMAL"}
    if not args.skip_postgres:
        with postgres_server(args.pg_url) as server:
            figures["postgresql_settings"] = server_settings(server)
            with postgres_databases(server) as fresh:
                for workers in WORKERS:
                    row = {"backend": "postgresql", **_run(fresh(f"w{workers}"), cases, workers)}
                    rows.append(row)
                    print(f"postgresql, {workers} worker(s): {row['tps']} tps", flush=True)
    print()
    print(_table(rows))
    for backend in ("sqlite", "postgresql"):
        mine = {str(r["workers"]): r["tps"] for r in rows if r["backend"] == backend}
        if mine:
            figures[f"{backend}_tps"] = mine
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
