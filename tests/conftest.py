"""Shared fixtures: an engine on a fresh database, driven by a fake clock.

The database backend comes from ``QINGLIU_TEST_DATABASE``: unset or ``sqlite`` (a file in the
test's tmp folder), or a PostgreSQL URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)  # a Friday, 09:00 in Shanghai


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'qingliu.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    base = load_settings(ROOT / "config")
    return Settings(
        config_dir=base.config_dir,
        database_url=database_url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        reference=base.reference,
    )


@pytest.fixture
def engine(settings: Settings, clock: FakeClock) -> Iterator[Engine]:
    eng = build_engine(settings, clock=clock)
    yield eng
    eng.store.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor("test-admin", "admin")
