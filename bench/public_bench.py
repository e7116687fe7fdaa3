"""The public pages under load: requests per second, p50 and p99 with 8 clients.

The server is a real ``qingliu serve`` (no timer sweep, no access log) in its own process on
127.0.0.1, on the demo city (``qingliu demo``: 66 outfalls, cases of every workflow, the clock at
2025-03-31) in a fresh SQLite file; this process is the load: 8 keep-alive connections from a
raw HTTP/1.1 client on asyncio (cheap enough that the server is what is measured), each asking
for one page after another for ``--seconds``. Pages:

- ``/o/{code}``: the outfall's page behind its QR code, every demo outfall in turn;
- ``/gk``: the public column's front (progress by county for the clock's date);
- ``/gk/progress.json``: the same numbers for reuse.

The reference, measured in the same run the same way: the public stylesheet
(``/static/public/public.css``, a static file: the floor of the server's stack). Public pages
are cached under the history head (``handlers.public.web``), so this is the steady state of a
page read many times between two writes; the first answer of each page (built, not cached) is
timed separately, one request at a time::

    .venv/bin/python -m bench.public_bench [--seconds 10] [--clients 8]

Prints a table, then one line ``{"bench": "public", ...}`` of JSON figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.http_bench import _start_server
from bench.workload import machine_info

ROOT = Path(__file__).resolve().parent.parent
QINGLIU = str(Path(sys.executable).with_name("qingliu"))
REFERENCE = "/static/public/public.css"


def _request(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode("ascii")


async def _response(reader: asyncio.StreamReader) -> int:
    """One HTTP/1.1 response (Content-Length framed); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def _client(
    url: tuple[str, int], paths: list[str], offset: int, stop_at: float, out: dict[str, Any]
) -> None:
    host, port = url
    reader, writer = await asyncio.open_connection(host, port)
    n = offset
    try:
        while time.monotonic() < stop_at:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            writer.write(_request(host, port, path))
            status = await _response(reader)
            out["latencies"].append(time.perf_counter() - started)
            if status != 200:
                out["failed"].append((path, status))
    finally:
        writer.close()


async def _load(
    url: tuple[str, int], paths: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "failed": []}
    stop_at = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(_client(url, paths, i, stop_at, out) for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies = sorted(out["latencies"])
    count = len(latencies)
    return {
        "requests": count,
        "failed": len(out["failed"]),
        "failures": out["failed"][:5],
        "per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000 if latencies else 0.0,
    }


async def _first(url: tuple[str, int], paths: list[str]) -> float:
    """The median time of a page's first answer (built, then cached), one at a time."""
    host, port = url
    reader, writer = await asyncio.open_connection(host, port)
    times = []
    try:
        for path in paths:
            started = time.perf_counter()
            writer.write(_request(host, port, path))
            status = await _response(reader)
            times.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
    finally:
        writer.close()
    return statistics.median(times) * 1000


def _codes(database: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key FROM subjects WHERE kind = 'outfall' ORDER BY key"))
        codes = [r[0] for r in rows]
    engine.dispose()
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time per page")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8797)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "public.db"
        env = {
            **os.environ,
            "QINGLIU_DATABASE_URL": f"sqlite:///{database}",
            "QINGLIU_CONFIG": str(ROOT / "config"),
            "QINGLIU_KEYS": str(Path(folder) / "keys"),
        }
        subprocess.run([QINGLIU, "demo"], env=env, capture_output=True, check=True)
        codes = _codes(database)
        server = _start_server(env, args.port, 1)
        url = ("127.0.0.1", args.port)
        pages = {
            "reference: static stylesheet": [REFERENCE],
            "/o/{code} (outfall page)": [f"/o/{c}" for c in codes],
            "/gk (column front)": ["/gk"],
            "/gk/progress.json": ["/gk/progress.json"],
        }
        try:
            first = {
                name: asyncio.run(_first(url, paths)) for name, paths in pages.items() if paths
            }
            rows = {
                name: asyncio.run(_load(url, paths, args.clients, args.seconds))
                for name, paths in pages.items()
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    reference = rows["reference: static stylesheet"]["per_second"]
    print(
        f"{args.clients} clients, {args.seconds:.0f} s a page, {len(codes)} outfalls\n"
        "page                            requests  failed  req/s    p50 ms  p99 ms"
        "  first ms  ÷ static"
    )
    for name, row in rows.items():
        print(
            f"{name:<31} {row['requests']:>8}  {row['failed']:>6}  {row['per_second']:>7.0f}"
            f"  {row['p50_ms']:>6.1f}  {row['p99_ms']:>6.1f}  {first[name]:>8.1f}"
            f"  {row['per_second'] / reference:>8.2f}"
        )
        for path, status in row["failures"]:
            print(f"  failed: {path} {status}")
    figures = {
        "bench": "public",
        "clients": args.clients,
        "seconds_per_page": args.seconds,
        "pages": {n: {**r, "first_ms": round(first[n], 2)} for n, r in rows.items()},
        "machine": machine_info(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for row in figures["pages"].values():
        row.pop("failures")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
