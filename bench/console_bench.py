"""Console page times in process: 待办 (/inbox), the case list (/cases) and the case page
(/cases/{id}), at the demo's size and at 100k cases.

The app is ``create_app`` on the demo city (``handlers.demo``, the clock at 2025-03-31) on a
fresh SQLite file, driven by Starlette's TestClient in this process with a signed-in session
cookie: a page's time is the whole request (routing, the session, the facade, the template).
The reference, measured in the same run and the same way: the API's own list,
``GET /api/v1/cases?limit=50`` with a bearer token of the same role and jurisdiction.

100k cases: the demo's cases (all of them, open and closed) are copied with new ids, new
subjects and their timer rows (every status, due times kept) in bulk through the store
(``insert`` on a write transaction, 5,000 rows per statement), until the cases table holds
``--cases`` rows. Copies have no history rows; the case page is measured on a demo case, which
has its history, among the copies::

    .venv/bin/python -m bench.console_bench [--cases 100000] [--requests 200]

Prints a table, then one line ``{"bench": "console", ...}`` of JSON figures. Target: p95 under
100 ms for every page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from bench.workload import machine_info
from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.console.accounts import Accounts
from engine.domain import load_domain
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from engine.store.tables import cases, timers
from handlers.demo.city import END, load_demo

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-console-2025"
TARGET_MS = 100.0
_BATCH = 5000
# (label, user, role, jurisdiction): who asks
_WHO = (
    ("county", "dongchangfu.eeb", "county_eeb", "dongchangfu"),
    ("city", "city.eeb", "eeb_city", "liaocheng"),
)


def _settings(url: str) -> Settings:
    base = load_settings(ROOT / "config")
    return Settings(
        config_dir=base.config_dir,
        database_url=url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        reference=base.reference,
    )


def _grow(engine: Engine, target: int) -> int:
    """Copy the demo's cases and their timers until ``target`` cases; the count reached."""
    with engine.store.read() as tx:
        originals = [dict(r._mapping) for r in tx.conn.execute(select(cases))]
        timer_rows = [dict(r._mapping) for r in tx.conn.execute(select(timers))]
        top = int(tx.conn.execute(select(func.max(cases.c.id))).scalar() or 0)
        sealed = {
            r.definition_id: engine.catalog.compiled(tx, r.definition_id).definition
            for r in tx.list_cases(limit=1_000_000)
        }
    sealed = {k: d for k, d in sealed.items() if d.confidential}
    plain = {
        row["id"]: engine.sealer.open(sealed[row["definition_id"]], row["id"], row["data"])
        for row in originals
        if row["definition_id"] in sealed
    }
    by_case: dict[int, list[dict[str, Any]]] = {}
    for t in timer_rows:
        t.pop("id")
        by_case.setdefault(t["case_id"], []).append(t)
    have = len(originals)
    round_no = 0
    next_id = top + 1
    while have < target:
        round_no += 1
        new_cases: list[dict[str, Any]] = []
        new_timers: list[dict[str, Any]] = []
        for row in originals:
            if have >= target:
                break
            copy = dict(row, id=next_id)
            if row["id"] in plain:  # sealed values are bound to their case's id
                d = sealed[row["definition_id"]]
                copy["data"] = engine.sealer.seal(d, next_id, plain[row["id"]])
            if copy["subject"] is not None:
                copy["subject"] = f"{copy['subject']}~{round_no}"
            new_cases.append(copy)
            new_timers.extend(dict(t, case_id=next_id) for t in by_case.get(row["id"], ()))
            next_id += 1
            have += 1
        with engine.store.write() as tx:
            for start in range(0, len(new_cases), _BATCH):
                tx.conn.execute(insert(cases), new_cases[start : start + _BATCH])
            for start in range(0, len(new_timers), _BATCH):
                tx.conn.execute(insert(timers), new_timers[start : start + _BATCH])
    return have


def _clients(app: FastAPI, engine: Engine) -> dict[str, tuple[TestClient, dict[str, str]]]:
    accounts = Accounts(engine)
    out = {}
    for label, user, role, jurisdiction in _WHO:
        if user not in {u.username for u in accounts.users()}:
            accounts.create_user(user, PASSWORD, role, jurisdiction, user)
        signed = accounts.sign_in(user, PASSWORD)
        client = TestClient(app, base_url="http://127.0.0.1")
        assert signed.secret is not None
        client.cookies.set("qingliu_session", signed.secret)
        _, secret = create_token(engine, f"bench-{label}-{time.monotonic_ns()}", role, jurisdiction)
        out[label] = (client, {"Authorization": f"Bearer {secret}"})
    return out


def _time(client: TestClient, path: str, headers: dict[str, str], n: int) -> dict[str, float]:
    for _ in range(5):  # warm up (templates compiled, caches filled)
        client.get(path, headers=headers)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}")
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
    }


def _measure(app: FastAPI, engine: Engine, n: int) -> dict[str, dict[str, float]]:
    clients = _clients(app, engine)
    county_case = engine.inbox(Actor("dongchangfu.eeb", "county_eeb", "dongchangfu"))
    case_id = county_case.items[0].view.id
    figures = {}
    for label, (client, token) in clients.items():
        pages = [
            ("inbox", "/inbox", {}),
            ("cases", "/cases", {}),
            ("case", f"/cases/{case_id}", {}),
            ("api_list", "/api/v1/cases?limit=50", token),
        ]
        for name, path, headers in pages:
            figures[f"{label}_{name}"] = _time(client, path, headers, n)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qingliu-console-bench-") as tmp:
        settings = _settings(f"sqlite:///{Path(tmp) / 'console.db'}")
        load_demo(settings)
        engine = build_engine(settings, clock=FakeClock(END))
        app = create_app(engine, load_domain(settings.handlers))
        results = {}
        with engine.store.read() as tx:
            demo_size = int(tx.conn.execute(select(func.count()).select_from(cases)).scalar() or 0)
        results[f"demo ({demo_size} cases)"] = _measure(app, engine, args.requests)
        start = time.perf_counter()
        grown = _grow(engine, args.cases)
        grow_s = round(time.perf_counter() - start, 1)
        results[f"{grown} cases"] = _measure(app, engine, args.requests)
        engine.store.dispose()
    worst = 0.0
    print(f"{'size':<20} {'page':<16} {'p50 ms':>8} {'p95 ms':>8} {'p95 / API list':>15}")
    for size, figures in results.items():
        for who in ("county", "city"):
            ref = figures[f"{who}_api_list"]["p95_ms"]
            for key, f in figures.items():
                if not key.startswith(who):
                    continue
                ratio = f["p95_ms"] / ref if ref else 0.0
                f["ratio_p95_to_api_list"] = round(ratio, 2)
                if not key.endswith("api_list"):
                    worst = max(worst, f["p95_ms"])
                print(f"{size:<20} {key:<16} {f['p50_ms']:>8} {f['p95_ms']:>8} {ratio:>14.2f}x")
    verdict = "met" if worst < TARGET_MS else "missed"
    print(f"worst page p95 {worst} ms: target p95 < {TARGET_MS:.0f} ms {verdict}")
    print(
        json.dumps(
            {
                "bench": "console",
                "requests": args.requests,
                "grow_seconds": grow_s,
                "results": results,
                "worst_p95_ms": worst,
                "target_met": worst < TARGET_MS,
                "machine": machine_info(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
