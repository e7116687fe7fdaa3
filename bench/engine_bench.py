"""Engine benchmark: Qingliu's ``Engine.fire`` against the persistence floor, SpiffWorkflow and
bare ``transitions``, in one run on one SQLite file (WAL, synchronous=NORMAL).

    .venv/bin/python -m bench.engine_bench            # ~1-2 minutes, medians of 5 repetitions
    .venv/bin/python -m bench.engine_bench --quick    # smoke test, a few seconds
    .venv/bin/python -m bench.engine_bench --memory   # RSS over 100k cases / 500k transitions

Prints a table, then one line ``{"bench": "engine", ...}`` of JSON figures. Each repetition
builds every contestant afresh, creates its cases (timed separately), then fires the 5 steps
breadth-first (every case's step 1, then every case's step 2, ...), one transaction per case and
step; the time per transition is the firing time divided by 5 x cases. The order of the
contestants rotates between repetitions. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.contestants import (
    BareTransitions,
    Contestant,
    CoreFloor,
    QingliuEngine,
    RawSqlite,
    prepare_database,
)
from bench.spiff_contestant import SpiffPersisted
from bench.workload import TRIGGERS, machine_info

RAW, CORE, ENGINE, ENGINE_TIMERS = "raw", "core", "engine", "engine_timers"
SPIFF, BARE = "spiff", "transitions"
ORDER = (RAW, CORE, ENGINE, ENGINE_TIMERS, SPIFF, BARE)
TARGETS = {"engine_vs_core_floor": 0.5, "engine_vs_spiff": 10.0}
DURABILITY = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "transaction": "one per transition (BEGIN IMMEDIATE ... COMMIT)",
}


@dataclass
class Results:
    names: dict[str, str] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    create_us: dict[str, list[float]] = field(default_factory=dict)
    fire_us: dict[str, list[float]] = field(default_factory=dict)
    fire_cpu_us: dict[str, list[float]] = field(default_factory=dict)
    spiff_json_bytes: int = 0

    def median_fire(self, key: str) -> float:
        return statistics.median(self.fire_us[key])

    def median_cpu(self, key: str) -> float:
        return statistics.median(self.fire_cpu_us[key])

    def median_create(self, key: str) -> float:
        return statistics.median(self.create_us[key])


def _factories(path: str, definition_id: int) -> dict[str, Callable[[], Contestant]]:
    url = f"sqlite:///{path}"
    return {
        RAW: lambda: RawSqlite(path, definition_id),
        CORE: lambda: CoreFloor(url, definition_id),
        ENGINE: lambda: QingliuEngine(url),
        ENGINE_TIMERS: lambda: QingliuEngine(url, timed=True),
        SPIFF: lambda: SpiffPersisted(url),
        BARE: BareTransitions,
    }


@dataclass(frozen=True)
class Sample:
    create_us: float  # wall time per create
    fire_us: float  # wall time per transition
    fire_cpu_us: float  # this process's CPU time (user + system) per transition


def measure(contestant: Contestant, n: int) -> Sample:
    """Times for ``n`` cases of the workload: create them, then fire the 5 steps on each."""
    started = time.perf_counter()
    contestant.create(n)
    created = time.perf_counter()
    cpu = time.process_time()
    for step in range(len(TRIGGERS)):
        contestant.fire_all(step)
    fired = time.perf_counter()
    cpu = time.process_time() - cpu
    done = contestant.finished()
    if done != n:
        raise RuntimeError(f"{contestant.name}: {done} of {n} cases reached the final state")
    transitions = n * len(TRIGGERS)
    return Sample(
        (created - started) / n * 1e6,
        (fired - created) / transitions * 1e6,
        cpu / transitions * 1e6,
    )


def run(path: str, reps: int, sizes: dict[str, int], log: Callable[[str], None]) -> Results:
    factories = _factories(path, prepare_database(f"sqlite:///{path}"))
    results = Results()
    order = list(factories)
    for key in order:  # warm-up: caches, compiled statements, imports; not recorded
        contestant = factories[key]()
        measure(contestant, max(2, sizes[key] // 10))
        contestant.close()
    for rep in range(reps):
        for key in order[rep % len(order) :] + order[: rep % len(order)]:
            contestant = factories[key]()
            sample = measure(contestant, sizes[key])
            results.names[key] = contestant.name
            results.cases[key] = sizes[key]
            results.create_us.setdefault(key, []).append(sample.create_us)
            results.fire_us.setdefault(key, []).append(sample.fire_us)
            results.fire_cpu_us.setdefault(key, []).append(sample.fire_cpu_us)
            if isinstance(contestant, SpiffPersisted):
                results.spiff_json_bytes = contestant.json_bytes
            contestant.close()
            log(
                f"  rep {rep + 1}/{reps} {contestant.name:<26} {sample.fire_us:9.1f} µs/transition"
                f" ({sample.fire_cpu_us:.1f} µs CPU)"
            )
    return results


def ratios(r: Results, cpu: bool = False) -> dict[str, float]:
    """Throughput of the first named over the second (time of the second over the first); by
    wall time, or with ``cpu`` by this process's CPU time (steadier on a busy machine)."""
    m = r.median_cpu if cpu else r.median_fire
    return {
        "engine_vs_core_floor": m(CORE) / m(ENGINE),
        "engine_with_timers_vs_core_floor": m(CORE) / m(ENGINE_TIMERS),
        "engine_vs_raw_floor": m(RAW) / m(ENGINE),
        "engine_vs_spiff": m(SPIFF) / m(ENGINE),
        "engine_vs_transitions": m(BARE) / m(ENGINE),
        "core_floor_vs_raw_floor": m(RAW) / m(CORE),
        "spiff_vs_core_floor": m(CORE) / m(SPIFF),
    }


def table(r: Results) -> str:
    lines = [
        f"{'contestant':<32} {'cases':>6} {'create µs':>10} {'µs/transition':>14} "
        f"{'CPU µs':>8} {'transitions/s':>14} {'time ÷ engine':>14}",
        "-" * 104,
    ]
    engine_us = r.median_fire(ENGINE)
    for key in ORDER:
        us = r.median_fire(key)
        lines.append(
            f"{r.names[key]:<32} {r.cases[key]:>6} {r.median_create(key):>10.1f} {us:>14.1f} "
            f"{r.median_cpu(key):>8.1f} {1e6 / us:>14,.0f} {us / engine_us:>14.2f}"
        )
    lines.append("")
    lines.append("ratios (throughput of the first over the second)   wall      CPU")
    cpu = ratios(r, cpu=True)
    for name, value in ratios(r).items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target ≥ {target:g}: {_verdict(value, target)}"
        lines.append(f"  {name:<46} {value:8.3f} {cpu[name]:8.3f}{verdict}")
    return "\n".join(lines)


def _verdict(value: float, target: float) -> str:
    return "met" if value >= target else "MISSED"


def figures(r: Results, reps: int) -> dict[str, object]:
    found = ratios(r)
    return {
        "bench": "engine",
        "backend": "sqlite",
        "durability": DURABILITY,
        "repetitions": reps,
        "cases": r.cases,
        "us_per_transition": {k: round(r.median_fire(k), 2) for k in r.fire_us},
        "transitions_per_s": {k: round(1e6 / r.median_fire(k), 1) for k in r.fire_us},
        "us_per_create": {k: round(r.median_create(k), 2) for k in r.create_us},
        "us_per_transition_each_rep": {k: [round(v, 2) for v in vs] for k, vs in r.fire_us.items()},
        "us_cpu_per_transition": {k: round(r.median_cpu(k), 2) for k in r.fire_cpu_us},
        "ratios": {k: round(v, 4) for k, v in found.items()},
        "ratios_cpu": {k: round(v, 4) for k, v in ratios(r, cpu=True).items()},
        "targets_met": {k: found[k] >= t for k, t in TARGETS.items()},
        "spiff_json_bytes": r.spiff_json_bytes,
        "machine": machine_info(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 rep, few cases")
    parser.add_argument("--reps", type=int, help="repetitions (default 5; 1 with --quick)")
    parser.add_argument("--cases", type=int, help="cases for floors and engine (default 400)")
    parser.add_argument("--spiff-cases", type=int, help="cases for SpiffWorkflow (default 100)")
    parser.add_argument("--memory", action="store_true", help="RSS over many cases instead")
    parser.add_argument("--memory-cases", type=int, default=100_000, help="with --memory")
    parser.add_argument("--db-dir", help="folder for the SQLite file (default: a temp folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="qingliu-bench-", dir=args.db_dir) as folder:
        path = str(Path(folder) / "bench.db")
        if args.memory:
            from bench.memory_bench import run_memory

            return run_memory(path, args.memory_cases)
        reps = args.reps or (1 if args.quick else 5)
        cases = args.cases or (40 if args.quick else 400)
        spiff = args.spiff_cases or (10 if args.quick else 100)
        sizes = {RAW: cases, CORE: cases, ENGINE: cases, ENGINE_TIMERS: cases, SPIFF: spiff}
        sizes[BARE] = cases * 5
        print(
            f"engine bench: {reps} reps on {path} ({DURABILITY['journal_mode']}, "
            f"synchronous={DURABILITY['synchronous']})",
            file=sys.stderr,
        )
        results = run(path, reps, sizes, lambda line: print(line, file=sys.stderr))
        print(table(results))
        print(json.dumps(figures(results, reps), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
