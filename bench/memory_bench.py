"""Resident memory of one engine process over many cases (``python -m bench.engine_bench
--memory``): create cases and fire each through the 5 steps to the final state, in batches,
reading VmRSS from /proc/self/status after each batch (after a ``gc.collect()``).

Flat means no per-case growth: cases are rows, not objects. The compiled machine keeps exactly
one model (checked after every batch), so no ``transitions`` models accumulate.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

from bench.contestants import QingliuEngine, prepare_database
from bench.workload import TRIGGERS, machine_info

__all__ = ["rss_kib", "run_memory"]


def rss_kib() -> int:
    """VmRSS of this process in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _models(engine: QingliuEngine) -> int:
    compiled = list(engine.engine.catalog._compiled.values())
    return sum(len(c._machine.models) for c in compiled)


def run_memory(path: str, total: int, batches: int = 10) -> int:
    prepare_database(f"sqlite:///{path}")
    contestant = QingliuEngine(f"sqlite:///{path}")
    size = max(1, total // batches)
    rows: list[dict[str, float]] = []
    started = time.perf_counter()
    contestant.create(2)  # warm-up: compile the definition, fill statement caches
    for step in range(len(TRIGGERS)):
        contestant.fire_all(step)
    gc.collect()
    baseline = rss_kib()
    print(
        f"{'cases done':>10} {'transitions':>12} {'RSS MiB':>9} {'Δ KiB':>8} {'models':>7} "
        f"{'seconds':>8}"
    )
    for batch in range(batches):
        contestant.ids = []
        contestant.create(size)
        for step in range(len(TRIGGERS)):
            contestant.fire_all(step)
        if contestant.finished() != size:
            raise RuntimeError(f"batch {batch}: not every case reached the final state")
        gc.collect()
        rss = rss_kib()
        done = (batch + 1) * size
        row = {
            "cases": done,
            "transitions": done * len(TRIGGERS),
            "rss_kib": rss,
            "models": _models(contestant),
            "seconds": round(time.perf_counter() - started, 1),
        }
        rows.append(row)
        print(
            f"{done:>10,} {done * len(TRIGGERS):>12,} {rss / 1024:>9.1f} {rss - baseline:>8} "
            f"{row['models']:>7} {row['seconds']:>8}",
            flush=True,
        )
    contestant.close()
    half = rows[len(rows) // 2]
    last = rows[-1]
    per_case_late = (
        (last["rss_kib"] - half["rss_kib"]) * 1024 / max(1, last["cases"] - half["cases"])
    )
    print(
        json.dumps(
            {
                "bench": "engine_memory",
                "backend": "sqlite",
                "cases": last["cases"],
                "transitions": last["transitions"],
                "rss_kib_after_warmup": baseline,
                "rss_kib_end": last["rss_kib"],
                "rss_kib_by_batch": [r["rss_kib"] for r in rows],
                "bytes_per_case_second_half": round(per_case_late, 2),
                "transitions_models_attached": last["models"],
                "seconds": last["seconds"],
                "machine": machine_info(),
            }
        )
    )
    return 0
