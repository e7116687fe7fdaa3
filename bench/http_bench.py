"""The HTTP API under load: transitions per second, p50 and p99, with 1 and 8 clients.

The server is a real ``qingliu serve`` (no timer sweep, no access log) in its own process on
127.0.0.1, on a fresh SQLite file; this process is the load. Each client fires the internal
``comment`` transition of the API test workflow on a case of its own (a full transition:
compare-and-set on the case, a hash-chained history row, one transaction), over a keep-alive
connection, driven by a raw HTTP/1.1 client on asyncio (cheap enough that the server is what
is measured). Each client count runs ``--reps`` rounds (median), bounded in count and in time.
The reference, measured in the same run: ``Engine.fire`` in this process with no HTTP, on a
SQLite file with the same settings::

    .venv/bin/python -m bench.http_bench [--requests 4000] [--seconds 20] [--reps 3]

Prints a table, then one line ``{"bench": "http", ...}`` of JSON figures.
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

import httpx2

from bench.contestants import QingliuEngine, prepare_database
from bench.workload import TRIGGERS, machine_info

ROOT = Path(__file__).resolve().parent.parent
QINGLIU = str(Path(sys.executable).with_name("qingliu"))
FIXTURE = ROOT / "tests" / "fixtures" / "api" / "permit.yaml"


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([QINGLIU, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [QINGLIU, "serve", "--no-scheduler", "--no-access-log", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx2.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def _open_cases(base: str, headers: dict[str, str], count: int, tag: str) -> list[int]:
    ids = []
    with httpx2.Client(base_url=base, headers=headers) as client:
        for n in range(count):
            body = {
                "workflow": "api_permit",
                "data": {"county": "chiping", "outfall_code": f"{tag}-{n}"},
            }
            response = client.post("/api/v1/cases", json=body)
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def _request(host: str, port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length framed, as uvicorn sends JSON); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _client(
    url: tuple[str, int],
    headers: dict[str, str],
    case_id: int,
    count: int,
    stop_at: float,
    latencies: list[float],
    failures: list[int],
) -> None:
    """One keep-alive connection firing ``count`` transitions, one at a time. A raw HTTP/1.1
    client on asyncio: the load costs ~50 µs of CPU per request, where an HTTP library would
    cost as much as the server and leave it short of the two cores' time."""
    host, port = url
    reader, writer = await asyncio.open_connection(host, port)
    path = f"/api/v1/cases/{case_id}/transitions"
    try:
        for n in range(count):
            if time.monotonic() > stop_at:
                return
            body = json.dumps({"trigger": "comment", "payload": {"note": f"load {n}"}}).encode()
            started = time.perf_counter()
            writer.write(_request(host, port, path, headers, body))
            status = await _response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(status)
    finally:
        writer.close()


async def _clients(
    url: tuple[str, int], headers: dict[str, str], cases: list[int], each: int, seconds: float
) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    failures: list[int] = []
    stop_at = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(url, headers, c, each, stop_at, latencies, failures) for c in cases)
    )
    return latencies, failures, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process ``pid`` and its children, e.g. the worker
    processes of ``serve --workers N`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(_cpu_seconds(int(child)) for child in children)


def _round(
    url: tuple[str, int], headers: dict[str, str], clients: int, args: argparse.Namespace
) -> Any:
    base = f"http://{url[0]}:{url[1]}"
    cases = _open_cases(base, headers, clients, f"B{clients}-{time.monotonic_ns()}")
    cpu = _cpu_seconds(args.server_pid)
    latencies, failures, elapsed = asyncio.run(
        _clients(url, headers, cases, args.requests // clients, args.seconds)
    )
    cpu = _cpu_seconds(args.server_pid) - cpu
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "clients": clients,
        "transitions": len(latencies),
        "failed": len(failures),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "server_cpu_us_per_transition": cpu / max(1, len(latencies)) * 1e6,
    }


def _in_process(folder: str, cases: int = 200) -> float:
    """The reference: ``Engine.fire`` transitions per second in this process, on a SQLite file
    of the same kind, with no HTTP (the bench workload of ``bench.engine_bench``)."""
    url = f"sqlite:///{Path(folder) / 'reference.db'}"
    prepare_database(url)
    contestant = QingliuEngine(url)
    try:
        contestant.create(cases)
        started = time.perf_counter()
        for step in range(len(TRIGGERS)):
            contestant.fire_all(step)
        return cases * len(TRIGGERS) / (time.perf_counter() - started)
    finally:
        contestant.close()


def _median_round(
    url: tuple[str, int], headers: dict[str, str], clients: int, args: argparse.Namespace
) -> dict[str, Any]:
    rounds = [_round(url, headers, clients, args) for _ in range(args.reps)]
    rounds.sort(key=lambda r: r["per_second"])
    return {**rounds[len(rounds) // 2], "each_per_second": [round(r["per_second"]) for r in rounds]}


def _serve_and_load(folder: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "QINGLIU_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
        "QINGLIU_CONFIG": str(ROOT / "config"),
    }
    _run(env, "load", str(FIXTURE))
    token = _run(env, "token", "create", "--name", "bench", "--role", "eeb_city")
    headers = {"Authorization": f"Bearer {token}"}
    server = _start_server(env, args.port, args.workers)
    args.server_pid = server.pid
    url = ("127.0.0.1", args.port)
    try:
        return [_median_round(url, headers, n, args) for n in (1, 8)]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="transitions per round")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per round")
    parser.add_argument("--reps", type=int, default=3, help="rounds per client count (median)")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--workers", type=int, default=1, help="qingliu serve --workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        reference = _in_process(folder)
        rows = _serve_and_load(folder, args)
    print(
        "clients  transitions  failed  transitions/s  p50 ms  p99 ms  server CPU µs"
        "  ÷ in-process engine"
    )
    for row in rows:
        print(
            f"{row['clients']:>7}  {row['transitions']:>11}  {row['failed']:>6}  "
            f"{row['per_second']:>13.1f}  {row['p50_ms']:>6.1f}  {row['p99_ms']:>6.1f}  "
            f"{row['server_cpu_us_per_transition']:>13.0f}  {row['per_second'] / reference:>19.2f}"
        )
    eight = rows[1]
    print(f"reference: Engine.fire in process, no HTTP: {reference:,.0f} transitions/s")
    print(f"throughput 8 clients / 1 client: {eight['per_second'] / rows[0]['per_second']:.2f}")
    met = {
        "per_second_8_clients_>=_1000": eight["per_second"] >= 1000,
        "p99_ms_8_clients_<_50": eight["p99_ms"] < 50,
    }
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()))
    figures = {
        "bench": "http",
        "backend": "sqlite",
        "rounds": rows,
        "reference_in_process_per_second": round(reference, 1),
        "targets_met": met,
        "machine": machine_info(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
