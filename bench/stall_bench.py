"""Can one client stall the others? p99 latency of 8 normal clients, alone and while one more
client sends what a careless script or an attacker would (issue 14), and the server's memory
before and after.

A real ``qingliu serve`` (one worker) on a fresh SQLite file, as ``bench.http_bench``. Eight
threads each fire the internal ``comment`` transition on a case of their own, back to back, for
``--seconds``: first alone, then while one attacker thread cycles through

- a 100 MB body with its ``Content-Length`` (answered 413 before it is read),
- a 100 MB chunked body without one (cut off at the limit as it streams in),
- a 10 MB JSON string in a case's data,
- the 342-byte YAML alias bomb to ``POST /api/v1/workflows/validate``,
- and, all the while, 8 slow-loris connections that send a request's headers and then one
  byte of its body every 100 ms.

Prints each phase's p50 / p99 / worst of the normal clients, the ratio of the p99s (target:
within 3x), the server's resident memory (VmRSS) before the attacks and after them (target:
back within 10 %), and one JSON line of figures::

    .venv/bin/python -m bench.stall_bench [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

from bench.stall_check import serving

CLIENTS = 8
MB = 1 << 20
BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _normal(base: str, headers: dict[str, str], case_id: int, end: float, out: list[float]) -> None:
    url = f"{base}/api/v1/cases/{case_id}/transitions"
    body = {"trigger": "comment", "payload": {"note": "巡查"}}
    with httpx2.Client(headers=headers, timeout=120) as client:
        while time.perf_counter() < end:
            start = time.perf_counter()
            answer = client.post(url, json=body)
            out.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text


def _phase(base: str, headers: dict[str, str], ids: list[int], seconds: float) -> list[float]:
    end = time.perf_counter() + seconds
    lists: list[list[float]] = [[] for _ in ids]
    threads = [
        threading.Thread(target=_normal, args=(base, headers, i, end, out))
        for i, out in zip(ids, lists, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for out in lists for x in out]


def _raw(port: int, head: bytes, body: Iterator[bytes]) -> int:
    """Send a request on a socket, as fast as the server takes it; the status it answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            sock.sendall(head)
            for chunk in body:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before the body was all sent
        try:
            answer = sock.recv(65536)
        except OSError:
            return 0
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def _head(path: str, token: str, kind: str, length: int | None) -> bytes:
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {kind}\r\n{size}\r\n\r\n"
    ).encode()


def _zeros(total: int) -> Iterator[bytes]:
    block = b"0" * MB
    for _ in range(total // MB):
        yield block


def _chunked(total: int) -> Iterator[bytes]:
    block = b"0" * MB
    for _ in range(total // MB):
        yield b"%x\r\n" % len(block) + block + b"\r\n"
    yield b"0\r\n\r\n"


def _attacks(port: int, token: str, stop: threading.Event, answers: dict[str, list[int]]) -> None:
    string = json.dumps(
        {"workflow": "api_permit", "data": {"county": "chiping", "x": "0" * (10 * MB)}}
    )
    bomb = BOMB.encode()
    while not stop.is_set():
        tries = {
            "100 MB with length": lambda: _raw(
                port,
                _head("/api/v1/cases", token, "application/json", 100 * MB),
                _zeros(100 * MB),
            ),
            "100 MB chunked": lambda: _raw(
                port, _head("/api/v1/cases", token, "application/json", None), _chunked(100 * MB)
            ),
            "10 MB JSON string": lambda: _raw(
                port,
                _head("/api/v1/cases", token, "application/json", len(string.encode())),
                iter([string.encode()]),
            ),
            "alias bomb": lambda: _raw(
                port,
                _head("/api/v1/workflows/validate", token, "application/yaml", len(bomb)),
                iter([bomb]),
            ),
        }
        for name, attack in tries.items():
            if stop.is_set():
                return
            answers.setdefault(name, []).append(attack())


def _loris(port: int, token: str, stop: threading.Event) -> None:
    """Headers of a 1 MB body, then one byte every 100 ms, until stopped."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            sock.sendall(_head("/api/v1/cases", token, "application/json", MB))
            while not stop.wait(0.1):
                sock.sendall(b" ")
        except OSError:
            return  # the server gave up on it: fine


def _figures(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    return {
        "count": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "worst_ms": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    with serving(args.port) as served:
        base, headers, token, pid = served.base, served.headers, served.token, served.server.pid
        ids = [served.open_case(f"STALL-{n}") for n in range(CLIENTS)]
        _phase(base, headers, ids, 2)  # warm-up
        before = _rss_kib(pid)
        alone = _phase(base, headers, ids, args.seconds)
        stop, answers = threading.Event(), {}
        attackers = [threading.Thread(target=_attacks, args=(args.port, token, stop, answers))]
        attackers += [
            threading.Thread(target=_loris, args=(args.port, token, stop)) for _ in range(8)
        ]
        for t in attackers:
            t.start()
        beside = _phase(base, headers, ids, args.seconds)
        stop.set()
        for t in attackers:
            t.join()
        _phase(base, headers, ids, 2)  # the same work after, so the heap is compared alike
        after = _rss_kib(pid)
    a, b = _figures(alone), _figures(beside)
    ratio = b["p99_ms"] / a["p99_ms"]
    growth = (after - before) / before
    print(f"{CLIENTS} normal clients      count  p50 ms  p99 ms  worst ms")
    for name, f in (("alone", a), ("beside the attacks", b)):
        line = f"{f['count']:>6}  {f['p50_ms']:>6}  {f['p99_ms']:>6}  {f['worst_ms']:>7}"
        print(f"{name:<22}{line}")
    print(f"p99 beside / alone: {ratio:.2f}x (target <= 3x)")
    print(
        f"server VmRSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
        f"({growth:+.1%}; target within 10%)"
    )
    print(
        "attacks answered:",
        {k: sorted(set(v)) for k, v in answers.items()},
        {k: len(v) for k, v in answers.items()},
    )
    print(
        json.dumps(
            {
                "alone": a,
                "beside": b,
                "p99_ratio": round(ratio, 2),
                "rss_kib": [before, after],
                "rss_growth": round(growth, 4),
                "attacks": {k: len(v) for k, v in answers.items()},
                "statuses": {k: sorted(set(v)) for k, v in answers.items()},
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
