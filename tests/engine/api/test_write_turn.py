"""Write requests run on the event loop only when their turn to write is free (SQLite); one
that would wait, for another thread or another process, runs in the thread pool instead and
still succeeds, with nothing written twice."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.handlers import Actor
from engine.runtime import Engine
from engine.store._connect import SQLITE_TIMEOUT
from engine.store.repository import Store, WriteBusy
from tests.conftest import ROOT

CLERK = Actor("clerk", "clerk")
STEPS = ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite whatever the suite's backend: taking turns to write is SQLite's (on PostgreSQL
    every write request goes to the thread pool)."""
    return f"sqlite:///{tmp_path / 'turns.db'}"


@pytest.fixture
def sqlite_engine(api_engine: Engine) -> Engine:
    assert api_engine.store.single_writer
    api_engine.load([STEPS])
    return api_engine


def _path(store: Store) -> str:
    return store.url.removeprefix("sqlite:///")


@pytest.fixture
def foreign_lock(sqlite_engine: Engine) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding SQLite's write lock until the test commits it."""
    other = sqlite3.connect(_path(sqlite_engine.store), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("COMMIT")
    other.close()


def _busy_timeout(store: Store) -> int:
    with store.write() as tx:
        return int(tx.conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


def test_another_processs_write_makes_the_first_write_refuse_at_once(
    sqlite_engine: Engine, foreign_lock: sqlite3.Connection
) -> None:
    store = sqlite_engine.store
    with pytest.raises(WriteBusy), store.without_waiting():
        sqlite_engine.create_case("mp_steps", {}, CLERK)
    foreign_lock.execute("COMMIT")
    assert sqlite_engine.list_cases(workflow="mp_steps") == []  # nothing was written
    with store.without_waiting():
        created = sqlite_engine.create_case("mp_steps", {}, CLERK)  # the same connection, again
    assert sqlite_engine.get_case(created.id).state == "open"
    assert _busy_timeout(store) == SQLITE_TIMEOUT * 1000  # restored after the quick BEGIN


def test_another_threads_write_makes_the_first_write_refuse_and_later_ones_wait(
    sqlite_engine: Engine,
) -> None:
    store = sqlite_engine.store
    inside, leave = threading.Event(), threading.Event()

    def hold_the_turn() -> None:
        with store.write():
            inside.set()
            leave.wait(30)

    holder = threading.Thread(target=hold_the_turn)
    holder.start()
    assert inside.wait(30)
    with pytest.raises(WriteBusy), store.without_waiting():
        sqlite_engine.create_case("mp_steps", {}, CLERK)
    leave.set()
    holder.join(30)
    with store.without_waiting():
        first = sqlite_engine.create_case("mp_steps", {}, CLERK)
        second = sqlite_engine.create_case("mp_steps", {}, CLERK)  # waits as usual, if need be
    assert [c.id for c in sqlite_engine.list_cases(workflow="mp_steps")] == [first.id, second.id]


class _Seen(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__(logging.DEBUG)
        self.needle, self.event = needle, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.event.set()


@pytest.fixture
def handed_over() -> Iterator[threading.Event]:
    """Set when a write request is handed to the thread pool because its turn was taken."""
    seen = _Seen("waits in a worker thread")
    logger = logging.getLogger("engine.api.writes")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(seen)
    yield seen.event
    logger.removeHandler(seen)
    logger.setLevel(level)


def test_a_request_whose_turn_is_taken_waits_in_the_pool_and_succeeds_once(
    client: TestClient,
    tokens: dict[str, dict[str, str]],
    new_case: Callable[..., dict[str, Any]],
    foreign_lock: sqlite3.Connection,
    handed_over: threading.Event,
) -> None:
    foreign_lock.execute("COMMIT")  # let the case be opened first
    case = new_case()
    foreign_lock.execute("BEGIN IMMEDIATE")
    answer: dict[str, Any] = {}

    def post() -> None:
        body = {"trigger": "comment", "payload": {"note": "排队"}}
        response = client.post(
            f"/api/v1/cases/{case['id']}/transitions", json=body, headers=tokens["city"]
        )
        answer.update(status=response.status_code, body=response.json())

    request = threading.Thread(target=post)
    request.start()
    assert handed_over.wait(30), "the request did not go to the thread pool"
    foreign_lock.execute("COMMIT")
    request.join(60)
    assert answer["status"] == 200, answer
    assert answer["body"]["version"] == case["version"] + 1  # fired exactly once
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["city"]).json()
    assert [e["trigger"] for e in history["items"]][-1:] == ["comment"]
    assert len(history["items"]) == case["version"] + 1


def test_stores_of_other_processes_take_turns_on_the_file(sqlite_engine: Engine) -> None:
    """Another Store on the same file (as in another process: its own lock file handle) waits
    for the turn instead of polling SQLite, and refuses at once when asked not to wait."""
    other = Store(sqlite_engine.store.url)
    try:
        inside, leave = threading.Event(), threading.Event()

        def hold_the_turn() -> None:
            with sqlite_engine.store.write():
                inside.set()
                leave.wait(30)

        holder = threading.Thread(target=hold_the_turn)
        holder.start()
        assert inside.wait(30)
        with pytest.raises(WriteBusy), other.without_waiting(), other.write():
            pass
        waited: list[int] = []

        def write_when_free() -> None:
            with other.write() as tx:
                waited.append(len(tx.case_ids()))

        writer = threading.Thread(target=write_when_free)
        writer.start()
        leave.set()
        holder.join(30)
        writer.join(30)
        assert waited == [0]
        assert Path(f"{_path(other)}-turn").exists()
    finally:
        other.dispose()
