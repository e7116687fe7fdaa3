"""One client's heavy definition check against a normal client's transitions: a small check
that the heavy work stays off the server's event loop (issue 14).

A real ``qingliu serve`` on a fresh SQLite file (as ``bench.http_bench``); one client fires
the internal ``comment`` transition in a loop (the hot path, which runs on the event loop)
for ``--seconds``, first alone, then while a second client sends ``POST
/api/v1/workflows/validate`` with a ~300 KB definition (a chain of a few thousand states)
back to back. Prints the normal client's p50, p99 and worst latency in both phases::

    .venv/bin/python -m bench.stall_check [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from bench.http_bench import FIXTURE, ROOT, _run, _start_server


def heavy_definition(target_bytes: int = 300_000) -> str:
    lines = ["name: heavy", "title: heavy", "roles: [eeb_city]", "initial: s0", "states:"]
    moves = ["transitions:"]
    i = 0
    while sum(map(len, lines)) + sum(map(len, moves)) < target_bytes:
        lines.append(f"  s{i}: {{title: 状态{i}}}")
        moves.append(f"  - {{trigger: t{i}, source: s{i}, dest: s{i + 1}, roles: [eeb_city]}}")
        i += 1
    lines.append(f"  s{i}: {{title: 终, final: true}}")
    return "\n".join(lines + moves) + "\n"


def _normal(base: str, headers: dict[str, str], case_id: int, seconds: float) -> list[float]:
    url = f"{base}/api/v1/cases/{case_id}/transitions"
    body = {"trigger": "comment", "payload": {"note": "巡查"}}
    out = []
    with httpx2.Client(headers=headers, timeout=60) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            assert client.post(url, json=body).status_code == 200
            out.append(time.perf_counter() - start)
    return out


def _heavy(base: str, headers: dict[str, str], stop: threading.Event, sent: list[float]) -> None:
    text = heavy_definition().encode()
    with httpx2.Client(
        headers={**headers, "Content-Type": "application/yaml"}, timeout=120
    ) as client:
        while not stop.is_set():
            start = time.perf_counter()
            assert client.post(f"{base}/api/v1/workflows/validate", content=text).status_code == 200
            sent.append(time.perf_counter() - start)


def _figures(latencies: list[float]) -> str:
    if not latencies:
        return "     0"
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{len(ms):>6}  {statistics.median(ms):>6.1f}  {p99:>6.1f}  {ms[-1]:>7.1f}"


@dataclass(frozen=True)
class Served:
    server: subprocess.Popen[bytes]
    base: str
    token: str
    headers: dict[str, str]

    def open_case(self, code: str) -> int:
        data = {"county": "chiping", "outfall_code": code, "applicant": "x"}
        made = httpx2.post(
            f"{self.base}/api/v1/cases",
            json={"workflow": "api_permit", "data": data},
            headers=self.headers,
        )
        return int(made.json()["id"])


@contextmanager
def serving(port: int) -> Iterator[Served]:
    """A ``qingliu serve`` (one worker) on a fresh SQLite file with the permit fixture loaded,
    and a city token; stopped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "QINGLIU_DATABASE_URL": f"sqlite:///{Path(folder) / 'stall.db'}",
            "QINGLIU_CONFIG": str(ROOT / "config"),
        }
        _run(env, "load", str(FIXTURE))
        token = _run(env, "token", "create", "--name", "stall", "--role", "eeb_city")
        server = _start_server(env, port, 1)
        try:
            yield Served(
                server, f"http://127.0.0.1:{port}", token, {"Authorization": f"Bearer {token}"}
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    with serving(args.port) as served:
        base, headers = served.base, served.headers
        case_id = served.open_case("STALL-1")
        alone = _normal(base, headers, case_id, args.seconds)
        stop, sent = threading.Event(), []
        worker = threading.Thread(target=_heavy, args=(base, headers, stop, sent))
        worker.start()
        beside = _normal(base, headers, case_id, args.seconds)
        stop.set()
        worker.join()
    print("normal client           count  p50 ms  p99 ms  worst ms")
    print(f"alone                   {_figures(alone)}")
    print(f"beside heavy validate   {_figures(beside)}")
    print(f"heavy validate requests {_figures(sent)}")


if __name__ == "__main__":
    main()
