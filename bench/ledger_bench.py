"""The ledger at province scale (issue 20): import rows/s, export CSV/.xlsx rows/s and peak
memory, and ``report progress`` / ``report deadlines`` time, on a generated file of N outfalls
over the real jurisdictions (config/reference/jurisdictions.yaml).

    .venv/bin/python -m bench.ledger_bench [--rows 20000] [--before] [--db-dir DIR]

The file is valid: national codes ``<division code>-<sequence>`` (docs/ledger.md) over every
county-level unit of jurisdictions.yaml, the columns an export writes. Each import goes into
a new SQLite file (WAL, as the engine opens it) in a temporary folder unless ``--db-dir``;
``--before`` first imports the same file row by row (the algorithm before issue 20, each row
in a savepoint) into a second file, for the ratio in the same run. After each import ``audit
verify`` runs on its database (``import_audit_ok``). Exports are timed, then traced for their
peak memory (tracemalloc, a second run). Rows/s are given by the wall clock and by the
process's CPU time (``*_cpu_*``: steadier on a shared machine). Prints a table, then one JSON
line (bench/README.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from engine.audit import verify_store
from engine.handlers import Actor
from engine.settings import build_engine, load_settings
from handlers.ledger import Ledger
from handlers.ledger import io as ledger_io
from handlers.reference import data as ref
from handlers.reports.compute import REPORTS

CITY = Actor("市生态环境局", "eeb_city", "liaocheng")
WORKFLOWS = ("responsibility", "rectification", "escalation", "retained_list")
# sub-types the city EEB records (every one), with the entry modes the ledger takes
SUB_TYPES = ("industrial_enterprise", "urban_wwtp", "rural_scattered", "urban_scattered")
RIVERS = ("tuhaihe", "majiahe", "huanghe", "weiyunhe", "jindihe", "xiaoyunhe")
ENTRY = ("明渠", "管道", "泵站", "涵闸")


def counties(reference: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, division code) of every county-level unit."""
    out = []
    for unit in ref.jurisdictions(reference):
        if unit.get("level") in ("county", "zone") and unit.get("division_code"):
            out.append((str(unit["code"]), str(unit["division_code"])))
    return out


def write_csv(path: Path, rows: int, reference: dict[str, Any], seed: int = 20) -> Path:
    """A valid ledger CSV of ``rows`` outfalls (the headers of ledger_io.COLUMNS)."""
    rng = random.Random(seed)
    units = counties(reference)
    header = ["编码", "名称", "排污口类型", "所在县区", "受纳水体", "经度", "纬度", "入河方式"]
    header += ["发现日期", "状态", "整治状态"]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(rows):
            county, division = units[i % len(units)]
            found = date(2023, 5, 1 + i % 28).isoformat()
            writer.writerow(
                [
                    f"{division}-{i:06d}",
                    f"第{i}号排污口",
                    SUB_TYPES[i % len(SUB_TYPES)],
                    county,
                    RIVERS[rng.randrange(len(RIVERS))],
                    round(115.5 + rng.random(), 5),
                    round(36.0 + rng.random(), 5),
                    ENTRY[i % len(ENTRY)],
                    found,
                    "在用",
                    "待整治",
                ]
            )
    return path


def _timed(fn: Callable[[], Any], trace: bool = False) -> dict[str, Any]:
    """Wall and CPU seconds of one call (the machine is shared: CPU time is the steadier
    figure), its result and, with ``trace``, its peak traced memory in MB (tracemalloc)."""
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        value = fn()
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
    return {"wall": wall, "cpu": cpu, "value": value, "peak_mb": round(peak / 2**20, 1)}


def _open(folder: Path) -> Ledger:
    """A ledger on a new SQLite file in ``folder``, the ledger's workflows published."""
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["QINGLIU_DATABASE_URL"] = f"sqlite:///{folder / 'ledger.db'}"
    settings = load_settings()
    engine = build_engine(settings)
    engine.load(Path(settings.workflows) / f"{name}.yaml" for name in WORKFLOWS)
    return Ledger(engine)


def _row_by_row() -> Callable[[], None]:
    """Make ``import_file`` take its row-by-row path (each row in a savepoint: the algorithm
    of the import before issue 20); returns the undo. None on code without the bulk path."""
    try:
        from handlers.ledger import importer
    except ImportError:  # the code before issue 20: row by row already
        return lambda: None
    bulk = importer._bulk

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise importer._Retry

    importer._bulk = refuse  # type: ignore[assignment]

    def undo() -> None:
        importer._bulk = bulk

    return undo


def _import(ledger: Ledger, source: Path, rows: int, prefix: str, out: dict[str, Any]) -> None:
    t = _timed(lambda: ledger_io.import_file(ledger, source, CITY))
    out[f"{prefix}_rows_s"] = round(rows / t["wall"])
    out[f"{prefix}_cpu_rows_s"] = round(rows / t["cpu"])
    report = verify_store(ledger.engine.store, ledger.engine.keys)
    out[f"{prefix}_audit_ok"] = not report.problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--db-dir", default=None, help="folder for the files (default: a temp)")
    parser.add_argument(
        "--before",
        action="store_true",
        help="also import row by row (the algorithm before issue 20) into a second database",
    )
    args = parser.parse_args(argv)
    folder = Path(args.db_dir or tempfile.mkdtemp(prefix="ledger-bench-"))
    os.environ.setdefault("QINGLIU_KEYS", str(folder / "keys"))
    reference = load_settings().reference
    folder.mkdir(parents=True, exist_ok=True)
    source = write_csv(folder / "ledger.csv", args.rows, reference)
    figures: dict[str, Any] = {"benchmark": "ledger", "rows": args.rows}
    if args.before:
        old = _open(folder / "before")
        undo = _row_by_row()
        try:
            _import(old, source, args.rows, "import_before", figures)
        finally:
            undo()
            old.engine.store.dispose()
    ledger = _open(folder / "after")
    _import(ledger, source, args.rows, "import", figures)
    for kind in ("csv", "xlsx"):
        out = folder / f"export.{kind}"
        t = _timed(lambda out=out: ledger_io.export_file(ledger, out, CITY))
        figures[f"export_{kind}_rows_s"] = round(t["value"] / t["wall"])
        traced = _timed(lambda out=out: ledger_io.export_file(ledger, out, CITY), trace=True)
        figures[f"export_{kind}_peak_mb"] = traced["peak_mb"]
    as_of = date(2025, 3, 31)
    for name in ("progress", "deadlines"):
        t = _timed(lambda name=name: REPORTS[name](ledger, as_of, CITY))
        figures[f"report_{name}_s"] = round(t["wall"], 3)
        figures[f"report_{name}_cpu_s"] = round(t["cpu"], 3)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    for key, value in figures.items():
        print(f"{key:26} {value}")
    print(json.dumps(figures, ensure_ascii=False))
    ledger.engine.store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
