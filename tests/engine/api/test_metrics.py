"""/metrics in Prometheus' text format, parsed with prometheus_client's own parser: requests by
route template and status, transitions by workflow and trigger, the timer gauges and
counters, write-turn waits; who may read it."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from engine.api.app import create_app
from engine.api.metrics import TOKEN_ENV
from engine.clock import FakeClock
from engine.runtime import Engine
from engine.store._turn import WriteTurn
from engine.time.scheduler import run_sweep
from tests.engine.api.helpers import case_body
from tests.engine.api.live_server import Server

Headers = dict[str, str]
LOOPBACK = ("127.0.0.1", 40000)
REQUESTS = 6
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, headers: Headers | None = None) -> Samples:
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    found: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def loopback(app: FastAPI) -> Any:
    with TestClient(app, client=LOOPBACK) as client:
        yield client


def test_a_fired_transition_and_a_404_show_up_with_their_labels(
    loopback: TestClient, tokens: dict[str, Headers]
) -> None:
    before = scrape(loopback)
    created = loopback.post("/api/v1/cases", json=case_body(), headers=tokens["city"])
    case_id = created.json()["id"]
    fired = loopback.post(
        f"/api/v1/cases/{case_id}/transitions", json={"trigger": "accept"}, headers=tokens["city"]
    )
    assert fired.status_code == 200, fired.text
    missing = loopback.get("/api/v1/cases/987654", headers=tokens["city"])
    nowhere = loopback.get("/no/such/page/OF-0001")
    assert (missing.status_code, nowhere.status_code) == (404, 404)
    after = scrape(loopback)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    transitions = "/api/v1/cases/{case_id}/transitions"
    requests = "qingliu_http_requests_total"
    assert delta("qingliu_transitions_total", workflow="api_permit", trigger="accept") == 1
    assert delta(requests, route=transitions, method="POST", status="200") == 1
    assert delta(requests, route="/api/v1/cases", method="POST", status="201") == 1
    assert delta(requests, route="/api/v1/cases/{case_id}", method="GET", status="404") == 1
    assert delta(requests, route="unmatched", method="GET", status="404") == 1
    latency = "qingliu_http_request_duration_seconds_count"
    assert delta(latency, route=transitions, method="POST") == 1
    routes = {v for _, pairs in after for k, v in pairs if k == "route"}
    assert "/no/such/page/OF-0001" not in routes
    assert not {r for r in routes if "987654" in r or "OF-0001" in r or f"/{case_id}" in r}


def test_timers_due_overdue_fired_late_and_the_sweep(
    api_engine: Engine, clock: FakeClock, loopback: TestClient, tokens: dict[str, Headers]
) -> None:
    case_id = loopback.post("/api/v1/cases", json=case_body(), headers=tokens["city"]).json()["id"]
    loopback.post(
        f"/api/v1/cases/{case_id}/transitions", json={"trigger": "accept"}, headers=tokens["city"]
    )
    with api_engine.store.read() as tx:
        [timer] = tx.live_timers(case_id)
    clock.set(timer.due_at + timedelta(hours=2))
    before = scrape(loopback)
    run_sweep(api_engine, name="serve@test", interval_seconds=30)
    after = scrape(loopback)
    assert value(before, "qingliu_timers_due") == 1
    assert value(before, "qingliu_timers_overdue") == 1
    assert value(before, "qingliu_sweep_lag_seconds") == 7200
    assert value(after, "qingliu_timers_due") == 0
    assert value(after, "qingliu_sweep_lag_seconds") == 0
    for name in ("qingliu_timers_fired_total", "qingliu_timers_fired_late_total"):
        assert value(after, name) - value(before, name) == 1
    ok = value(after, "qingliu_sweeps_total", result="ok")
    assert ok - value(before, "qingliu_sweeps_total", result="ok") == 1
    swept = value(after, "qingliu_sweep_last_timestamp_seconds", scheduler="serve@test")
    assert swept == clock.now().timestamp()
    assert value(after, "qingliu_database_up") == 1
    overdue = {"workflow": "api_permit", "trigger": "overdue"}
    fired = value(after, "qingliu_transitions_total", **overdue)
    assert fired - value(before, "qingliu_transitions_total", **overdue) == 1


def test_a_write_that_waits_for_its_turn_is_counted(
    tmp_path: Path, loopback: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two turns on one file, as two processes hold them: the second waits for the first."""
    path = str(tmp_path / "q.db")
    first, second = WriteTurn(path), WriteTurn(path)
    waiting = threading.Event()
    lock_file = second._lock_file

    def locking(blocking: bool) -> bool:  # blocking only once the turn was found taken
        if blocking:
            waiting.set()
        return lock_file(blocking)

    monkeypatch.setattr(second, "_lock_file", locking)
    before = scrape(loopback)
    assert first.acquire()
    waiter = threading.Thread(target=lambda: (second.acquire(), second.release()))
    waiter.start()
    assert waiting.wait(timeout=60)
    first.release()
    waiter.join(timeout=60)
    after = scrape(loopback)
    first.close()
    second.close()
    name = "qingliu_write_turn_waits_total"
    assert value(after, name) - value(before, name) == 1
    seconds = "qingliu_write_turn_wait_seconds_total"
    assert value(after, seconds) > value(before, seconds)


@pytest.mark.parametrize(
    ("client_host", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("10.1.2.3", {}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),  # a proxy on this host
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, 403),
    ],
    ids=["loopback", "loopback-v6", "remote", "proxied", "forwarded"],
)
def test_without_a_token_only_loopback_clients_read_it(
    app: FastAPI, client_host: str, headers: Headers, status: int
) -> None:
    with TestClient(app, client=(client_host, 40000)) as client:
        answer = client.get("/metrics", headers=headers)
    assert answer.status_code == status
    if status == 403:
        assert answer.headers["content-type"] == "application/problem+json"
        assert TOKEN_ENV in answer.json()["detail"]
        assert "qingliu_" not in answer.text


def test_with_a_token_it_is_required_from_everywhere(
    api_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "scrape-secret-1")
    app = create_app(api_engine)
    with TestClient(app, client=("10.1.2.3", 40000)) as remote:
        right = remote.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
        wrong = remote.get("/metrics", headers={"Authorization": "Bearer scrape-secret-2"})
        none = remote.get("/metrics")
        # a token of other characters than ASCII (sent as UTF-8) is another wrong one, not a 500
        accented = remote.get("/metrics", headers={"Authorization": "Bearer été".encode()})
    assert accented.status_code == 403
    with TestClient(app, client=LOOPBACK) as local:
        local_none = local.get("/metrics")
    assert right.status_code == 200
    assert "qingliu_http_requests_total" in right.text
    assert [wrong.status_code, none.status_code, local_none.status_code] == [403, 403, 403]
    assert "scrape-secret" not in wrong.text


def test_the_database_gauges_say_when_it_cannot_be_read(
    api_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*_args: Any, **_kw: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("unable to open database file"))

    app = create_app(api_engine)
    monkeypatch.setattr(api_engine.store, "read", down)
    with TestClient(app, client=LOOPBACK) as client:
        samples = scrape(client)
    assert value(samples, "qingliu_database_up") == 0
    assert ("qingliu_timers_due", frozenset()) not in samples
    assert ("qingliu_http_requests_total", frozenset()) not in samples  # labelled only


def _parse(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_with_workers_any_worker_answers_for_the_whole_server(tmp_path: Path) -> None:
    """``serve --workers 2``: the counts are the server's, whichever worker is scraped, and
    they include the sweep's, which runs in the parent process (that serves no request)."""
    server = Server(tmp_path, "--workers", "2", "--sweep-seconds", "5")
    try:
        server.wait_ready()  # /readyz saw the parent's first sweep
        for n in range(REQUESTS):  # a connection each: the workers take turns to accept
            assert httpx2.get(f"{server.base}/no/such/{n}").status_code == 404
        scrapes = [_parse(httpx2.get(f"{server.base}/metrics").text) for _ in range(4)]
    finally:
        output = server.stop()
    for samples in scrapes:
        not_found = {"route": "unmatched", "method": "GET", "status": "404"}
        assert value(samples, "qingliu_http_requests_total", **not_found) == REQUESTS, output
        assert value(samples, "qingliu_sweeps_total", result="ok") >= 1
        assert value(samples, "qingliu_database_up") == 1
