"""The ledger at province scale (issue 20): import rows/s, export CSV/.xlsx rows/s and peak
memory, and ``report progress`` / ``report deadlines`` time, on a generated file of N outfalls
over the real jurisdictions (config/reference/jurisdictions.yaml).

    .venv/bin/python -m bench.ledger_bench [--rows 20000] [--db-dir DIR]

The file is valid: national codes ``<division code>-<sequence>`` (docs/ledger.md), Chinese
names and labels as an export writes them. One SQLite file per run (WAL, as the engine opens
it), in a temporary folder unless ``--db-dir``. Prints a table, then one JSON line.
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

from engine.handlers import Actor
from engine.settings import build_engine, load_settings
from handlers.ledger import Ledger
from handlers.ledger import io as ledger_io
from handlers.reference import data as ref

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


def _timed(fn: Callable[[], Any]) -> tuple[float, Any, int]:
    """Seconds, result and the peak traced memory (bytes) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        value = fn()
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, value, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--db-dir", default=None)
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc (faster)")
    args = parser.parse_args(argv)
    folder = Path(args.db_dir or tempfile.mkdtemp(prefix="ledger-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["QINGLIU_DATABASE_URL"] = f"sqlite:///{folder / 'ledger.db'}"
    os.environ.setdefault("QINGLIU_KEYS", str(folder / "keys"))
    settings = load_settings()
    engine = build_engine(settings)
    engine.load(Path(settings.workflows) / f"{name}.yaml" for name in WORKFLOWS)
    ledger = Ledger(engine)
    source = write_csv(folder / "ledger.csv", args.rows, settings.reference)
    timed = _timed if not args.no_memory else _untraced
    figures: dict[str, Any] = {"benchmark": "ledger", "rows": args.rows}
    t, result, peak = timed(lambda: ledger_io.import_file(ledger, source, CITY))
    figures.update(
        import_s=round(t, 2), import_rows_s=round(args.rows / t), import_peak_mb=_mb(peak)
    )
    for kind in ("csv", "xlsx"):
        out = folder / f"export.{kind}"
        t, count, peak = timed(lambda out=out: ledger_io.export_file(ledger, out, CITY))
        figures[f"export_{kind}_rows_s"] = round(count / t)
        figures[f"export_{kind}_peak_mb"] = _mb(peak)
    from handlers.reports.compute import REPORTS

    as_of = date(2025, 3, 31)
    for name in ("progress", "deadlines"):
        t, _, _ = _untraced(lambda name=name: REPORTS[name](ledger, as_of, CITY))
        figures[f"report_{name}_s"] = round(t, 3)
    for key, value in figures.items():
        print(f"{key:24} {value}")
    print(json.dumps(figures, ensure_ascii=False))
    engine.store.dispose()
    return 0


def _untraced(fn: Callable[[], Any]) -> tuple[float, Any, int]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value, 0


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


if __name__ == "__main__":
    sys.exit(main())
