"""Shared fixtures: an engine on a fresh database, driven by a fake clock.

The database backend comes from ``QINGLIU_TEST_DATABASE``: unset or ``sqlite`` (a file in the
test's tmp folder), or a PostgreSQL URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from tests import backends

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)  # a Friday, 09:00 in Shanghai


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def pytest_configure(config: pytest.Config) -> None:
    # A home exported in the shell (QINGLIU_HOME, as `qingliu init` suggests) would win over the
    # QINGLIU_CONFIG every test names, and tests would read or write that installation.
    os.environ.pop("QINGLIU_HOME", None)
    # Keys kept outside the database (engine/keys.py): one folder for the whole run, handed to
    # the CLI subprocesses through the environment, never the repository's var/keys.
    if "QINGLIU_KEYS" not in os.environ:
        import tempfile

        os.environ["QINGLIU_KEYS"] = tempfile.mkdtemp(prefix="qingliu-keys-")


def pytest_sessionstart(session: pytest.Session) -> None:
    server = backends.postgres_server()
    problem = server and backends.server_problem(server)
    if problem:
        pytest.exit(problem, returncode=3)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and backends.postgres_server() is None:
        pytest.fail(
            f"{item.nodeid} needs PostgreSQL: run it with {backends.ENV}=postgresql+psycopg://... "
            "(`.ci/postgres.sh start`, then `make test-postgres`), or deselect it with "
            "-m 'not postgres'",
            pytrace=False,
        )


def _new_database(tmp_path: Path, name: str, *, upgraded: bool = True) -> Iterator[str]:
    """A SQLite file ``name`` in the test's folder (created on first use), or on PostgreSQL a
    new schema, at the schema head if ``upgraded`` (see tests/backends.py)."""
    server = backends.postgres_server()
    if server is None:
        yield f"sqlite:///{tmp_path / name}"
        return
    with backends.fresh_schema(server, upgraded=upgraded) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A new database: a SQLite file created on first use, or on PostgreSQL a new schema
    already at the schema head."""
    yield from _new_database(tmp_path, "qingliu.db")


@pytest.fixture
def second_database_url(tmp_path: Path) -> Iterator[str]:
    """Another new database beside ``database_url``, like it."""
    yield from _new_database(tmp_path, "second.db")


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (not even the schema revision table)."""
    yield from _new_database(tmp_path, "empty.db", upgraded=False)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    base = load_settings(ROOT / "config")
    return Settings(
        config_dir=base.config_dir,
        database_url=database_url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        blobs_dir=str(tmp_path / "blobs"),
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


Run = Callable[..., str]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """The installed `qingliu` command, as a user runs it, on a fresh SQLite file:
    ``run(*args, code=0)`` returns stdout + stderr and asserts the exit code and no traceback."""
    exe = shutil.which("qingliu", path=str(Path(sys.executable).parent)) or "qingliu"
    env = {
        **os.environ,
        "QINGLIU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "QINGLIU_CONFIG": str(ROOT / "config"),
    }

    def call(*args: str, code: int = 0) -> str:
        done = subprocess.run(
            [exe, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr

    return call
