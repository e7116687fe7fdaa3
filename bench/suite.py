"""Every benchmark of issue 5 in one run, each judged against its target.

Runs, one after the other, each in its own process (their own output goes to stderr as it
comes): ``engine_bench`` on SQLite, ``engine_bench --backend postgresql`` (a private durable
server unless ``--pg-url``), ``http_bench``, ``sweep_bench`` and ``engine_bench --memory``.
Then prints one table, target by target, and one line of JSON with every benchmark's figures::

    .venv/bin/python -m bench.suite            # ~30 minutes on a 2-core machine
    .venv/bin/python -m bench.suite --quick    # smoke run of the same, a few minutes
    .venv/bin/python -m bench.suite --skip memory,postgresql

"Flat" memory: less than ``FLAT_BYTES`` of resident memory per finished case over the second
half of the run (a ``transitions`` model kept per case would cost kilobytes) and one model
attached at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.extra import missing, missing_message

__all__ = ["BENCHES", "main"]

FLAT_BYTES = 100.0


@dataclass(frozen=True)
class Target:
    name: str
    figure: Callable[[dict[str, Any]], float]
    met: Callable[[float], bool]
    shown: str  # how the figure reads, with {value}


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    targets: tuple[Target, ...]


def _eight(figures: dict[str, Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = figures["rounds"]
    return next(r for r in rows if r["clients"] == 8)


BENCHES = (
    Bench(
        "sqlite",
        "bench.engine_bench",
        (),
        ("--quick",),
        (
            Target(
                "engine ≥ 0.5 × SQLAlchemy Core floor (SQLite)",
                lambda f: f["ratios"]["engine_vs_core_floor"],
                lambda v: v >= 0.5,
                "{value:.2f}×",
            ),
            Target(
                "engine ≥ 10 × SpiffWorkflow persisted",
                lambda f: f["ratios"]["engine_vs_spiff"],
                lambda v: v >= 10,
                "{value:.1f}×",
            ),
        ),
    ),
    Bench(
        "postgresql",
        "bench.engine_bench",
        ("--backend", "postgresql"),
        ("--backend", "postgresql", "--quick"),
        (
            Target(
                "engine ≥ 0.5 × SQLAlchemy Core floor (PostgreSQL)",
                lambda f: f["ratios"]["engine_vs_core_floor"],
                lambda v: v >= 0.5,
                "{value:.2f}×",
            ),
        ),
    ),
    Bench(
        "http",
        "bench.http_bench",
        ("--reps", "5"),
        ("--reps", "1", "--requests", "800"),
        (
            Target(
                "HTTP ≥ 1,000 transitions/s with 8 clients",
                lambda f: _eight(f)["per_second"],
                lambda v: v >= 1000,
                "{value:,.0f}/s",
            ),
            Target(
                "HTTP p99 < 50 ms with 8 clients",
                lambda f: _eight(f)["p99_ms"],
                lambda v: v < 50,
                "{value:.1f} ms",
            ),
        ),
    ),
    Bench(
        "sweep",
        "bench.sweep_bench",
        ("--repeat", "5"),
        ("--quick",),
        (
            Target(
                "sweep among 1M rows ≤ 1.5 × among 10k",
                lambda f: f["ratio"],
                lambda v: v <= 1.5,
                "{value:.2f}",
            ),
        ),
    ),
    Bench(
        "memory",
        "bench.engine_bench",
        ("--memory",),
        ("--memory", "--memory-cases", "10000"),
        (
            Target(
                f"memory flat per finished case (< {FLAT_BYTES:.0f} B, one model)",
                lambda f: (
                    f["bytes_per_case_second_half"]
                    if f["transitions_models_attached"] <= 1
                    else float("inf")
                ),
                lambda v: v < FLAT_BYTES,
                "{value:.1f} B per case",
            ),
        ),
    ),
)


def _figures(bench: Bench, quick: bool, pg_url: str | None) -> tuple[dict[str, Any] | None, str]:
    """Run one benchmark; its JSON figures (None if it failed) and a word on how it went."""
    command = [sys.executable, "-m", bench.module, *(bench.quick_args if quick else bench.args)]
    if bench.name == "postgresql" and pg_url:
        command += ["--pg-url", pg_url]
    print(f"== {bench.name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stdout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    took = f"{time.monotonic() - started:.0f} s"
    if done.returncode != 0 or not lines:
        return None, f"failed (exit {done.returncode}, {took})"
    return json.loads(lines[-1]), took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few cases, one round")
    parser.add_argument(
        "--skip", default="", help=f"comma-separated, of: {', '.join(b.name for b in BENCHES)}"
    )
    parser.add_argument("--pg-url", help="a PostgreSQL server to use instead of a private one")
    args = parser.parse_args(argv)
    absent = missing()
    if absent:
        print(f"error: {missing_message(absent)}", file=sys.stderr)
        return 2
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skipped - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s) to skip: {', '.join(sorted(unknown))}")
    figures: dict[str, Any] = {}
    verdicts: dict[str, bool] = {}
    rows = []
    for bench in BENCHES:
        if bench.name in skipped:
            rows += [(t.name, "skipped", "-") for t in bench.targets]
            continue
        found, how = _figures(bench, args.quick, args.pg_url)
        figures[bench.name] = found
        for target in bench.targets:
            if found is None:
                verdicts[target.name] = False
                rows.append((target.name, how, "FAILED"))
                continue
            value = target.figure(found)
            verdicts[target.name] = target.met(value)
            shown = target.shown.format(value=value)
            rows.append((target.name, shown, "met" if verdicts[target.name] else "MISSED"))
    width = max(len(name) for name, _, _ in rows)
    print(f"{'target':<{width}}  {'figure':>22}  verdict")
    for name, shown, verdict in rows:
        print(f"{name:<{width}}  {shown:>22}  {verdict}")
    if args.quick:
        print("(--quick: smoke-run sizes; the figures are not the ones to judge by)")
    print(
        json.dumps(
            {"bench": "suite", "quick": args.quick, "targets_met": verdicts, "figures": figures},
            ensure_ascii=False,
        )
    )
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
