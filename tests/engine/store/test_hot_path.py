"""The per-transition statements on the driver (``engine/store/_hot.py``) read and write exactly
what the SQLAlchemy column types do, on SQLite and on PostgreSQL, and their database errors come
out as SQLAlchemy's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.rows import LIVE_TIMER, TimerRow
from engine.store.tables import cases, events, timers
from tests.conftest import ROOT

CLERK = Actor("clerk", "clerk", None)
STEPS = ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"


def test_a_fired_case_reads_the_same_through_the_driver_and_through_sqlalchemy(
    engine: Engine,
) -> None:
    engine.load([STEPS])
    created = engine.create_case("mp_steps", {"worker": 7, "note": '排污口 "引号" ✓'}, CLERK)
    engine.fire(created.id, "note", CLERK, {"note": "第二条 ünïcode"})
    fired = engine.fire(created.id, "assess", CLERK)
    with engine.store.read() as tx:
        raw = tx.lock_case(created.id)
        core = tx.get_case(created.id)
        history = tx.events(created.id)
        stored = tx.conn.execute(select(cases.c.data).where(cases.c.id == created.id)).scalar()
        at = tx.conn.execute(
            select(events.c.at).where(events.c.case_id == created.id, events.c.seq == 3)
        ).scalar()
    assert raw == core
    assert raw is not None
    assert raw.state == "assessed"
    assert raw.version == 3
    assert raw.data == {"worker": 7, "note": "第二条 ünïcode"} == stored
    assert raw.updated_at == fired.case.updated_at == engine.clock.now()
    assert raw.updated_at.tzinfo is UTC
    assert [e.seq for e in history] == [1, 2, 3]
    assert history[1].payload == {"note": "第二条 ünïcode"}
    assert history[1].patch == {"set": {"note": "第二条 ünïcode"}}
    assert history[2].at == engine.clock.now()
    assert history[2].due_at is None
    assert at is not None
    assert at.replace(tzinfo=UTC) == engine.clock.now()
    assert engine.verify_audit() == []


def test_a_missing_case_is_none_and_a_lost_race_is_false(engine: Engine) -> None:
    engine.load([STEPS])
    case = engine.create_case("mp_steps", {}, CLERK)
    with engine.store.write() as tx:
        assert tx.lock_case(case.id + 1000) is None
        row = tx.lock_case(case.id)
        assert row is not None
        values = {
            "state": "assessed",
            "data": {},
            "version": 5,
            "is_open": True,
            "last_hash": "f" * 64,
            "updated_at": datetime(2024, 3, 2, tzinfo=UTC),
        }
        assert tx.update_case(case.id, row.version + 1, values) is False  # someone else's
        assert tx.update_case(case.id, row.version, values) is True
    assert engine.get_case(case.id).case.version == 5


def test_a_driver_error_comes_out_as_sqlalchemys_and_rolls_back(engine: Engine) -> None:
    engine.load([STEPS])
    case = engine.create_case("mp_steps", {}, CLERK)
    with engine.store.read() as tx:
        first = tx.events(case.id)[0]
    duplicate = {**first.__dict__, "kind": "transition"}  # seq 1 again: uq_events_case_seq
    values = {**_values(case.id, engine), "version": 2}

    def update_then_append(event: dict[str, object]) -> None:
        with engine.store.write() as tx:
            tx.update_case(case.id, 1, values)
            tx.append_event(event)

    with pytest.raises(IntegrityError):
        update_then_append(duplicate)
    assert engine.get_case(case.id).case.version == 1  # the update went with the transaction
    with pytest.raises(ValueError, match="naive datetime"):
        update_then_append({**duplicate, "seq": 2, "at": datetime(2024, 3, 1)})
    assert engine.get_case(case.id).case.version == 1


class _Boom(Exception):
    pass


def test_driver_and_sqlalchemy_statements_of_one_write_commit_or_roll_back_together(
    engine: Engine,
) -> None:
    """A write mixes statements on the driver cursor and through SQLAlchemy (a savepoint too):
    all of them commit together, or none does when the write fails after both ran."""
    engine.load([STEPS])
    case = engine.create_case("mp_steps", {}, CLERK)
    values = {**_values(case.id, engine), "version": 2}

    def write(key: str, fail: bool) -> None:
        with engine.store.write() as tx:
            assert tx.update_case(case.id, 1, values)  # the driver cursor
            tx.put_subject("outfall", key, {"code": key}, "donge", engine.clock.now())  # Core
            assert tx.insert_token(key, "clerk", None, (key * 64)[:64], engine.clock.now())
            if fail:
                raise _Boom

    def nothing_left_over() -> None:
        # On SQLite the store begins a write on the driver itself: SQLAlchemy must not still
        # hold a transaction object from the write before, whether it committed or failed.
        with engine.store.write() as tx:
            assert tx.conn.in_transaction() is (engine.store.dialect != "sqlite")

    with pytest.raises(_Boom):
        write("A-1", fail=True)
    nothing_left_over()
    with engine.store.read() as tx:
        assert tx.get_case(case.id).version == 1  # type: ignore[union-attr]
        assert tx.get_subject("outfall", "A-1") is None
        assert [t.name for t in tx.tokens()] == []
    write("A-2", fail=False)
    nothing_left_over()
    with engine.store.read() as tx:
        assert tx.get_case(case.id).version == 2  # type: ignore[union-attr]
        assert tx.get_subject("outfall", "A-2") == {"code": "A-2"}
        assert [t.name for t in tx.tokens()] == ["A-2"]
    nothing_left_over()


def _values(case_id: int, engine: Engine) -> dict[str, object]:
    row = engine.get_case(case_id).case
    return {
        "state": row.state,
        "data": row.data,
        "is_open": row.is_open,
        "last_hash": row.last_hash,
        "updated_at": row.updated_at,
    }


def test_live_timers_read_through_the_driver_match_sqlalchemys(engine: Engine) -> None:
    """A definition with a reminder and a deadline: the live timers, as the driver reads them,
    are the rows SQLAlchemy reads, in due order, with aware times and decoded payloads."""
    engine.load([ROOT / "tests" / "fixtures" / "backend" / "ticking.yaml"])
    case = engine.create_case("mp_ticking", {}, CLERK)
    with engine.store.read() as tx:
        raw = tx.live_timers(case.id)
        query = (
            select(timers)
            .where(timers.c.case_id == case.id, timers.c.status.in_(LIVE_TIMER))
            .order_by(timers.c.due_at, timers.c.id)
        )
        core = [TimerRow(**r._mapping) for r in tx.conn.execute(query)]
    assert raw == core
    assert raw, "the fixture arms at least one timer on creation"
    assert all(t.due_at.tzinfo is UTC and t.created_at.tzinfo is UTC for t in raw)
    assert all(isinstance(t.payload, dict) and isinstance(t.provisional, bool) for t in raw)
    engine.fire(case.id, "finish", CLERK)  # leaving the state cancels its timers
    with engine.store.read() as tx:
        assert tx.live_timers(case.id) == []
        statuses = tx.conn.execute(select(timers.c.status).where(timers.c.case_id == case.id))
        assert set(statuses.scalars()) == {"cancelled"}
