"""Province scale (issue 20): what users wait for, at each size of ``bench/province.py``.

    .venv/bin/python -m bench.province_bench [--sizes 10000,100000,1000000]
        [--backend sqlite|postgresql] [--pg-url URL] [--calls 50] [--import-rows 2000]
        [--replay-sample 5000]

Each size's province is generated first unless its home (``/tmp/province-<backend>-<size>``)
holds one already. Everything runs through the real code paths, on an engine whose clock is
the province's end (2025-03-31), as a county actor (``county_eeb`` of 济南市第1区) and a city
actor (``eeb_city`` of 济南市):

- the case list (``Engine.list_cases``, 50 rows) and the 待办 (``Engine.inbox``): p50/p99
  over ``--calls`` calls;
- ``report progress`` and ``report deadlines`` (``handlers/reports/compute.py``) for the
  city: the best of 3 calls;
- ``audit verify`` (``engine.audit.verify_store`` with the blob store): events/s (wall and
  CPU time);
- ``replay`` (``Engine.replay``, as ``qingliu replay`` does case by case) of every case up to
  ``--replay-sample``, else that many spread evenly over the ids: cases/s and mismatches;
- the ledger export to .csv and .xlsx (``handlers.ledger.io.export_file``) and the import of
  a CSV of ``--import-rows`` new outfalls (``import_file``): rows/s and the peak resident
  memory above the start (VmHWM reset through ``/proc/self/clear_refs``);
- the sweep (``engine.time.sweep.sweep``) of 1,000 due timers: 1,000 pending timers of open
  cases are made due (their ``due_at`` moved to the clock) first. Import and sweep change the
  database: they run last, and a province is generated again for a clean re-run
  (``--fresh``).

Prints a table (each figure at each size, largest ÷ smallest, target, verdict) and one JSON
line ``{"bench": "province", ...}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bench.province import generate
from bench.workload import machine_info
from engine import audit
from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import build_engine, load_settings
from engine.store.tables import cases, timers
from engine.time.sweep import sweep
from handlers.demo.city import END
from handlers.ledger import Ledger
from handlers.ledger import io as ledger_io
from handlers.ledger.tabular import write_table
from handlers.reports import compute

COUNTY = Actor("济南市第1区生态环境分局", "county_eeb", "jinan02")
CITY = Actor("济南市生态环境局", "eeb_city", "jinan")
ADMIN = Actor("bench.province", "admin")
# figure: (unit, target text, verdict at the largest size from (value, ratio, size ratio))
Verdict = Callable[[float, float, float], bool]
TARGETS: dict[str, tuple[str, str, Verdict]] = {
    "case_list_p50_ms": ("ms", "", lambda v, r, s: True),
    "case_list_p99_ms": ("ms", "< 50 ms, sub-linear", lambda v, r, s: v < 50 and (r < s or s == 1)),
    "worklist_p50_ms": ("ms", "", lambda v, r, s: True),
    "worklist_p99_ms": ("ms", "< 50 ms, sub-linear", lambda v, r, s: v < 50 and (r < s or s == 1)),
    "report_progress_s": ("s", "< 1 s, sub-linear", lambda v, r, s: v < 1 and (r < s or s == 1)),
    "report_deadlines_s": ("s", "< 1 s, sub-linear", lambda v, r, s: v < 1 and (r < s or s == 1)),
    "audit_events_per_s": ("/s", ">= 50,000 events/s", lambda v, r, s: v >= 50_000),
    "audit_cpu_events_per_s": ("/s", "(CPU time)", lambda v, r, s: True),
    "replay_cases_per_s": ("/s", "", lambda v, r, s: True),
    "export_csv_rows_per_s": ("/s", "", lambda v, r, s: True),
    "export_csv_peak_mb": ("MB", "constant (ratio <= 2)", lambda v, r, s: r <= 2),
    "export_xlsx_rows_per_s": ("/s", "", lambda v, r, s: True),
    "export_xlsx_peak_mb": ("MB", "constant (ratio <= 2)", lambda v, r, s: r <= 2),
    "import_rows_per_s": ("/s", ">= 2,000 rows/s", lambda v, r, s: v >= 2000),
    "import_peak_mb": ("MB", "", lambda v, r, s: True),
    "sweep_timers_per_s": ("/s", "", lambda v, r, s: True),
}


def _rss(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()``, its seconds and the peak resident memory above the start (MB)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    base = _rss("VmRSS")
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, seconds, max(0.0, _rss("VmHWM") - base)


def _latency(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return round(statistics.median(times), 2), round(p99, 2)


def _best(fn: Callable[[], Any], n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def _import_file(ledger: Ledger, folder: Path, rows: int) -> Path:
    """A CSV of ``rows`` new outfalls of 济南市第1区, made from records in the ledger."""
    views = ledger.list(limit=min(rows, 500))
    writer = ledger_io.CellWriter(ledger.reference)
    stamp = f"B{int(time.time()) % 10**6:06d}"
    out = []
    for n in range(rows):
        record = dict(views[n % len(views)].record)
        record.update(code=f"370102-{stamp}-{n:05d}", county="jinan02", name=f"导入排污口{n}")
        for name in ("local_code", "responsible_credit_code", "permit_number"):
            record.pop(name, None)
        out.append(writer.row(record))
    path = folder / "import.csv"
    write_table(path, [c.header for c in ledger_io.COLUMNS], iter(out))
    return path


def _due_timers(engine: Engine, n: int) -> int:
    """Make ``n`` pending timers of open cases due at the clock; how many there were."""
    now = engine.clock.now()
    with engine.store.write() as tx:
        query = (
            select(timers.c.id)
            .join(cases, cases.c.id == timers.c.case_id)
            .where(timers.c.status == "pending", cases.c.is_open.is_(True))
            .order_by(timers.c.id)
            .limit(n)
        )
        ids = [int(i) for i in tx.conn.execute(query).scalars()]
        tx.conn.execute(
            update(timers).where(timers.c.id.in_(ids)).values(due_at=now - timedelta(minutes=1))
        )
    return len(ids)


def measure(home: Path, args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings(home / "config")
    engine = build_engine(settings, clock=FakeClock(END))
    ledger = Ledger(engine)
    as_of = compute.today(END)
    f: dict[str, Any] = {}
    try:
        f["case_list_p50_ms"], f["case_list_p99_ms"] = _latency(
            lambda: engine.list_cases(COUNTY, limit=50), args.calls
        )
        f["worklist_p50_ms"], f["worklist_p99_ms"] = _latency(
            lambda: engine.inbox(COUNTY), args.calls
        )
        f["report_progress_s"] = _best(lambda: compute.progress(ledger, as_of, CITY))
        f["report_deadlines_s"] = _best(lambda: compute.deadlines(ledger, as_of, CITY))
        if "audit" not in args.skip:
            _audit(engine, f)
        if "replay" not in args.skip:
            _replay(engine, f, args.replay_sample)
        with tempfile.TemporaryDirectory(prefix="province-bench-") as tmp:
            if "export" not in args.skip:
                _export(ledger, f, Path(tmp))
            if "import" not in args.skip:
                _import(ledger, f, Path(tmp), args.import_rows)
        if "sweep" not in args.skip:
            f["sweep_due"] = _due_timers(engine, 1000)
            start = time.perf_counter()
            fired = sweep(engine, now=END, limit=1000)
            f["sweep_fired"] = len(fired.firings)
            f["sweep_timers_per_s"] = round(len(fired.firings) / (time.perf_counter() - start))
    finally:
        engine.store.dispose()
    return f


def _audit(engine: Engine, f: dict[str, Any]) -> None:
    cpu = time.process_time()
    report, seconds, _ = _peak(
        lambda: audit.verify_store(engine.store, engine.keys, None, engine.attachments.blobs)
    )
    cpu = time.process_time() - cpu
    f["audit_problems"] = len(report.problems)
    f["audit_rows"] = report.head
    f["audit_events_per_s"] = round(report.head / seconds)
    f["audit_cpu_events_per_s"] = round(report.head / cpu)


def _replay(engine: Engine, f: dict[str, Any], wanted: int) -> None:
    with engine.store.read() as tx:
        ids = tx.case_ids()
    step = max(1, len(ids) // wanted)
    sample = ids[::step]
    start = time.perf_counter()
    mismatches = sum(0 if r.matches(row) else 1 for row, r in map(engine.replay, sample))
    f["replay_cases"], f["replay_mismatches"] = len(sample), mismatches
    f["replay_cases_per_s"] = round(len(sample) / (time.perf_counter() - start))


def _export(ledger: Ledger, f: dict[str, Any], tmp: Path) -> None:
    for kind in ("csv", "xlsx"):
        path = tmp / f"ledger.{kind}"
        count, seconds, peak = _peak(lambda p=path: ledger_io.export_file(ledger, p))
        f[f"export_{kind}_rows"] = count
        f[f"export_{kind}_rows_per_s"] = round(count / seconds)
        f[f"export_{kind}_peak_mb"] = round(peak, 1)


def _import(ledger: Ledger, f: dict[str, Any], tmp: Path, rows: int) -> None:
    source = _import_file(ledger, tmp, rows)
    result, seconds, peak = _peak(lambda: ledger_io.import_file(ledger, source, ADMIN))
    f["import_rows"], f["import_added"] = result.rows, result.added
    f["import_rows_per_s"] = round(result.rows / seconds)
    f["import_peak_mb"] = round(peak, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--replay-sample", type=int, default=5000)
    parser.add_argument("--fresh", action="store_true", help="generate every province again")
    parser.add_argument(
        "--skip", default="", help="comma-separated: audit,replay,export,import,sweep"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.skip = set(filter(None, args.skip.split(",")))
    load_start = os.getloadavg()
    results: dict[int, dict[str, Any]] = {}
    generated: dict[int, Any] = {}
    for size in sizes:
        home = Path(f"/tmp/province-{args.backend}-{size}")
        ready = (home / "config/settings.yaml").exists() and (
            args.backend != "sqlite" or (home / "province.db").exists()
        )
        if args.fresh or not ready:
            generated[size] = generate(size, home, args.backend, args.pg_url)
        print(f"-- {size:,} cases ({args.backend})", flush=True)
        results[size] = measure(home, args)
        print(json.dumps(results[size], ensure_ascii=False), flush=True)
    verdicts = _table(sizes, results)
    print(
        json.dumps(
            {
                "bench": "province",
                "backend": args.backend,
                "sizes": sizes,
                "results": {str(s): r for s, r in results.items()},
                "generated": {str(s): g for s, g in generated.items()},
                "verdicts": verdicts,
                "load_average": {"start": load_start, "end": os.getloadavg()},
                "machine": machine_info(),
            },
            ensure_ascii=False,
        )
    )


def _table(sizes: list[int], results: dict[int, dict[str, Any]]) -> dict[str, bool]:
    small, large = sizes[0], sizes[-1]
    head = "".join(f"{s:>12,}" for s in sizes)
    print(f"{'figure':<24}{head}{'ratio':>9}  {'target':<24}verdict")
    verdicts = {}
    for name, (unit, target, ok) in TARGETS.items():
        values = [results[s].get(name) for s in sizes]
        if any(v is None for v in values):
            continue
        low, high = float(values[0]), float(values[-1])
        if unit == "MB":  # below 1 MB is within the measure's noise
            low, high = max(low, 1.0), max(high, 1.0)
        ratio = high / low if low else float("inf")
        verdict = ok(high, ratio, large / small) if target else None
        if verdict is not None:
            verdicts[name] = verdict
        shown = "".join(f"{v:>12,}" for v in values)
        words = "" if verdict is None else ("met" if verdict else "MISSED")
        print(f"{name:<24}{shown}{ratio:>9.2f}  {target:<24}{words}")
    return verdicts


if __name__ == "__main__":
    main()
