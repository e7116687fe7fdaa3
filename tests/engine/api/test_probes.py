"""/healthz and /readyz: no token, nothing disclosed beyond check names, statuses and plain
reasons; readiness fails on each condition by name and recovers without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from engine.api.app import create_app
from engine.clock import FakeClock
from engine.handlers import Registry
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.store.repository import Store
from engine.time.scheduler import run_sweep, scheduler_name, start_background_sweeper
from tests.engine.api.conftest import FIXTURE
from tests.engine.api.helpers import problem

INTERVAL = 30


@pytest.fixture
def sqlite_engine(tmp_path: Path, settings: Settings, clock: FakeClock) -> Iterator[Engine]:
    """An engine on a SQLite file of its own folder (which a test may take away)."""
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'q.db'}"
    engine = build_engine(Settings(**{**settings.__dict__, "database_url": url}), clock=clock)
    yield engine
    engine.store.dispose()


def _checks(answer: object) -> dict[str, dict[str, str]]:
    body = problem(answer, 503, "not-ready")  # type: ignore[arg-type]
    return {c["name"]: c for c in body["checks"]}


def test_healthz_answers_without_a_token() -> None:
    engine = _nowhere()
    with TestClient(create_app(engine)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    engine.store.dispose()


def _nowhere() -> Engine:
    """An engine whose database is unreachable (a folder that does not exist)."""
    return Engine(Store("sqlite:////nonexistent-qingliu-folder/q.db"), Registry())


def test_readyz_names_each_failed_check(engine: Engine, clock: FakeClock) -> None:
    with TestClient(create_app(engine)) as client:
        nothing = _checks(client.get("/readyz"))
        engine.load([FIXTURE])
        loaded = _checks(client.get("/readyz"))
        assert run_sweep(engine, name="serve@test", interval_seconds=INTERVAL) is not None
        ready = client.get("/readyz")
        clock.advance(timedelta(seconds=2 * INTERVAL + 30))
        still = client.get("/readyz")
        clock.advance(timedelta(seconds=1))
        stale = _checks(client.get("/readyz"))
    assert nothing["definitions"] == {
        "name": "definitions",
        "status": "failed",
        "reason": "no workflow definition is published: qingliu load",
    }
    assert nothing["sweep"]["status"] == "failed"
    assert "no scheduler has ever swept this database" in nothing["sweep"]["reason"]
    assert nothing["database"] == {"name": "database", "status": "ok"}
    assert nothing["schema"] == {"name": "schema", "status": "ok"}
    assert loaded["definitions"]["status"] == "ok"
    assert loaded["sweep"]["status"] == "failed"
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "definitions": "ok", "sweep": "ok"},
    }
    assert still.status_code == 200  # twice the interval plus the slack is still fresh
    assert stale["sweep"] == {
        "name": "sweep",
        "status": "failed",
        "reason": "the last sweep ran 91 s ago, more than twice its interval (30 s) plus 30 s",
    }


def test_the_freshest_heartbeat_counts(engine: Engine, clock: FakeClock) -> None:
    engine.load([FIXTURE])
    run_sweep(engine, name="scheduler@old-host", interval_seconds=INTERVAL)
    clock.advance(timedelta(hours=1))
    run_sweep(engine, name="serve@new-host", interval_seconds=INTERVAL)
    with TestClient(create_app(engine)) as client:
        assert client.get("/readyz").status_code == 200
    with engine.store.read() as tx:
        beats = tx.heartbeats()
    assert [b.name for b in beats] == ["serve@new-host", "scheduler@old-host"]
    assert beats[0].at == clock.now()


def test_a_schema_behind_head_is_not_ready(engine: Engine) -> None:
    engine.load([FIXTURE])
    with engine.store.write() as tx:
        tx.conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    with TestClient(create_app(engine)) as client:
        checks = _checks(client.get("/readyz"))
    assert checks["schema"] == {
        "name": "schema",
        "status": "failed",
        "reason": "the schema is not at this version's head: qingliu db upgrade",
    }
    assert checks["definitions"] == {"name": "definitions", "status": "skipped"}
    assert checks["sweep"] == {"name": "sweep", "status": "skipped"}


def test_readyz_fails_while_the_database_is_away_and_recovers(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    engine = sqlite_engine
    engine.load([FIXTURE])
    run_sweep(engine, name="serve@test", interval_seconds=INTERVAL)
    folder, away = tmp_path / "db", tmp_path / "away"
    with TestClient(create_app(engine)) as client:
        assert client.get("/readyz").status_code == 200
        folder.rename(away)
        engine.store.engine.dispose()  # the open connections are gone, as after a fault
        down = client.get("/readyz")
        healthy = client.get("/healthz")
        away.rename(folder)
        back = client.get("/readyz")
    checks = _checks(down)
    assert checks["database"] == {
        "name": "database",
        "status": "failed",
        "reason": "the database cannot be reached",
    }
    assert {checks[n]["status"] for n in ("schema", "definitions", "sweep")} == {"skipped"}
    assert str(tmp_path) not in down.text
    assert "sqlite" not in down.text.lower()
    assert healthy.status_code == 200  # the process is up: no restart wanted
    assert back.status_code == 200


def test_an_unreachable_database_says_nothing_of_where_it_is() -> None:
    engine = _nowhere()
    with TestClient(create_app(engine)) as client:
        answer = client.get("/readyz", headers={"X-Request-ID": "probe-1"})
    checks = _checks(answer)
    assert checks["database"]["status"] == "failed"
    assert "nonexistent" not in answer.text
    assert answer.json()["request_id"] == "probe-1"
    assert answer.headers["x-request-id"] == "probe-1"
    engine.store.dispose()


def test_the_servers_sweeper_sweeps_at_once_and_beats(engine: Engine) -> None:
    stop = start_background_sweeper(engine, interval_seconds=3600)
    stop()  # waits for the first sweep, which does not wait one interval
    with engine.store.read() as tx:
        [beat] = tx.heartbeats()
    assert beat.name == scheduler_name("serve")
    assert beat.name.startswith("serve@")
    assert beat.interval_seconds == 3600


def test_a_failed_sweep_is_counted_as_failed(tmp_path: Path) -> None:
    engine = Engine(Store(f"sqlite:///{tmp_path / 'missing' / 'q.db'}"), Registry())
    before = REGISTRY.get_sample_value("qingliu_sweeps_total", {"result": "failed"}) or 0
    assert run_sweep(engine, name="serve@test", interval_seconds=INTERVAL) is None
    after = REGISTRY.get_sample_value("qingliu_sweeps_total", {"result": "failed"})
    assert after == before + 1
    engine.store.dispose()
