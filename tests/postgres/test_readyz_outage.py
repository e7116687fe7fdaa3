"""/readyz on PostgreSQL: 503 naming the database while the server is stopped, and ready again
once it is back, from the same app (no restart); and ready again after every connection of the
pool was terminated by the server (``pg_terminate_backend``). A private server
(``private_server`` of test_outage.py): the shared one is never stopped."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from engine.api.app import create_app
from engine.clock import FakeClock
from engine.settings import Settings, build_engine, load_settings
from engine.store import migrate
from engine.store.repository import Store
from engine.time.scheduler import run_sweep
from tests.conftest import ROOT, START
from tests.postgres.test_outage import FIXTURE, Control, private_server

__all__ = ["private_server"]

pytestmark = pytest.mark.postgres


def test_readyz_follows_the_server_down_and_back(private_server: tuple[str, Control]) -> None:
    url, control = private_server
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    base = load_settings(ROOT / "config")
    settings = Settings(
        config_dir=base.config_dir,
        database_url=url,
        handlers=base.handlers,
        reference=base.reference,
    )
    engine = build_engine(settings, clock=FakeClock(START))
    try:
        engine.load([FIXTURE])
        run_sweep(engine, name="serve@test", interval_seconds=30)
        with TestClient(create_app(engine)) as client:
            assert client.get("/readyz").status_code == 200
            with engine.store.read() as tx:  # every other connection of this database
                tx.conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            assert client.get("/readyz").status_code == 200  # the pool reconnects
            control("pause")
            down = client.get("/readyz")
            control("resume")
            back = client.get("/readyz")
    finally:
        engine.store.dispose()
    assert down.status_code == 503
    checks = {c["name"]: c for c in down.json()["checks"]}
    assert checks["database"] == {
        "name": "database",
        "status": "failed",
        "reason": "the database cannot be reached",
    }
    assert "qingliu:qingliu" not in down.text
    assert "127.0.0.1" not in down.text
    assert back.status_code == 200, back.text
