"""The contestants of ``bench.engine_bench``: each creates ``n`` cases of the workload and fires
one step of it on every case, one transaction per case and step where it persists.

- ``RawSqlite``: the floor with the ``sqlite3`` module: UPDATE the case row, INSERT one history
  row, ``BEGIN IMMEDIATE``/``COMMIT`` around each transition.
- ``CoreFloor``: the same rows with plain SQLAlchemy Core statements, on an engine made by
  ``engine.store.repository.make_engine`` (so the same pragmas as Qingliu's store).
- ``QingliuEngine``: ``Engine.create_case`` / ``Engine.fire``, all work counted.
- ``BareTransitions``: a ``transitions`` machine in memory, nothing persisted.
- SpiffWorkflow lives in ``bench/spiff_contestant.py``.

All persisting contestants write the same tables (``cases``, ``events``) of the same file.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from transitions import Machine

from bench.workload import (
    ACTOR,
    DEFINITION,
    DEFINITION_TIMED,
    PAYLOAD,
    REGISTRY,
    SCOPE_PARENTS,
    STATES,
    TRIGGERS,
    case_data,
)
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store, make_engine
from engine.store.tables import cases, events

__all__ = [
    "BareTransitions",
    "Contestant",
    "CoreFloor",
    "QingliuEngine",
    "RawSqlite",
    "prepare_database",
]

_HASH = "0" * 64  # the floors store a hash column but compute nothing


class Contestant(Protocol):
    name: str
    persisted: bool

    def create(self, n: int) -> None: ...

    def fire_all(self, step: int) -> None: ...

    def finished(self) -> int:
        """How many of the cases this contestant created are in the final state."""
        ...

    def close(self) -> None: ...


def prepare_database(url: str) -> int:
    """Create the schema, publish the workload; the definition id the floors' rows point at."""
    store = Store(url)
    try:
        migrate.upgrade(store)
        engine = Engine(store, REGISTRY)
        engine.publish(DEFINITION, "bench")
        engine.publish(DEFINITION_TIMED, "bench")
        row, _ = engine.definition("bench_approval")
        return row.id
    finally:
        store.dispose()


def _case_values(definition_id: int, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "definition_id": definition_id,
        "workflow": "bench_approval",
        "workflow_version": 1,
        "state": STATES[0],
        "data": data,
        "version": 1,
        "subject": None,
        "jurisdiction": data["county"],
        "is_open": True,
        "last_hash": _HASH,
        "created_at": now,
        "updated_at": now,
    }


def _event_values(case_id: int, seq: int, step: int | None, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": seq,
        "kind": "created" if step is None else "transition",
        "trigger": None if step is None else TRIGGERS[step],
        "transition": step,
        "from_state": None if step is None else STATES[step],
        "to_state": STATES[0] if step is None else STATES[step + 1],
        "actor": ACTOR.name,
        "role": ACTOR.role,
        "jurisdiction": ACTOR.jurisdiction,
        "payload": {} if step is None else dict(PAYLOAD),
        "patch": {} if step is None else {"set": {f"{TRIGGERS[step]}_done": True}},
        "at": now,
        "due_at": None,
        "prev_hash": _HASH,
        "hash": _HASH,
    }


# Plain Core, written the efficient way: statements built once, values passed as parameters.
_INSERT_CASE_CORE = insert(cases)
_INSERT_EVENT_CORE = insert(events)
_UPDATE_CASE_CORE = update(cases).where(
    cases.c.id == bindparam("case_id"), cases.c.version == bindparam("expected_version")
)


class CoreFloor:
    name = "SQLAlchemy Core floor"
    persisted = True

    def __init__(self, url: str, definition_id: int) -> None:
        # Qingliu's pragmas, and BEGIN IMMEDIATE for every transaction, as the store's writes.
        self.engine = make_engine(url).execution_options(qingliu_write=True)
        self.definition_id = definition_id
        self.ids: list[int] = []
        self.data: dict[int, dict[str, Any]] = {}

    def create(self, n: int) -> None:
        for i in range(n):
            now = datetime.now(UTC)
            data = case_data(i)
            with self.engine.begin() as conn:
                result = conn.execute(
                    _INSERT_CASE_CORE, _case_values(self.definition_id, data, now)
                )
                case_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                conn.execute(_INSERT_EVENT_CORE, _event_values(case_id, 1, None, now))
            self.ids.append(case_id)
            self.data[case_id] = data

    def fire_all(self, step: int) -> None:
        done = f"{TRIGGERS[step]}_done"
        for case_id in self.ids:
            now = datetime.now(UTC)
            data = self.data[case_id]
            data[done] = True
            with self.engine.begin() as conn:
                conn.execute(
                    _UPDATE_CASE_CORE,
                    {
                        "case_id": case_id,
                        "expected_version": step + 1,
                        "state": STATES[step + 1],
                        "data": data,
                        "version": step + 2,
                        "is_open": step + 1 < len(TRIGGERS),
                        "last_hash": _HASH,
                        "updated_at": now,
                    },
                )
                conn.execute(_INSERT_EVENT_CORE, _event_values(case_id, step + 2, step, now))

    def finished(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).where(
                cases.c.id.in_(self.ids), cases.c.state == STATES[-1]
            )
            return int(conn.execute(query).scalar_one())

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_time(moment: datetime) -> str:
    """How SQLAlchemy stores a naive UTC datetime on SQLite."""
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


_INSERT_CASE = (
    "INSERT INTO cases (definition_id, workflow, workflow_version, state, data, version, subject,"
    " jurisdiction, is_open, last_hash, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_CASE = (
    "UPDATE cases SET state = ?, data = ?, version = ?, is_open = ?, last_hash = ?,"
    " updated_at = ? WHERE id = ? AND version = ?"
)
_INSERT_EVENT = (
    "INSERT INTO events (case_id, seq, kind, trigger, transition, from_state, to_state, actor,"
    " role, jurisdiction, payload, patch, at, due_at, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class RawSqlite:
    name = "raw sqlite3 floor"
    persisted = True

    def __init__(self, path: str, definition_id: int) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.definition_id = definition_id
        self.ids: list[int] = []
        self.data: dict[int, dict[str, Any]] = {}

    def _event(self, case_id: int, seq: int, step: int | None, now: datetime) -> tuple[Any, ...]:
        v = _event_values(case_id, seq, step, now)
        v.update(payload=_dumps(v["payload"]), patch=_dumps(v["patch"]), at=_sqlite_time(now))
        return tuple(v.values())

    def create(self, n: int) -> None:
        c = self.conn
        for i in range(n):
            now = datetime.now(UTC)
            data = case_data(i)
            v = _case_values(self.definition_id, data, now)
            v.update(data=_dumps(data), created_at=_sqlite_time(now), updated_at=_sqlite_time(now))
            c.execute("BEGIN IMMEDIATE")
            case_id = int(c.execute(_INSERT_CASE, tuple(v.values())).lastrowid or 0)
            c.execute(_INSERT_EVENT, self._event(case_id, 1, None, now))
            c.execute("COMMIT")
            self.ids.append(case_id)
            self.data[case_id] = data

    def fire_all(self, step: int) -> None:
        c = self.conn
        done = f"{TRIGGERS[step]}_done"
        final = step + 1 == len(TRIGGERS)
        for case_id in self.ids:
            now = datetime.now(UTC)
            data = self.data[case_id]
            data[done] = True
            c.execute("BEGIN IMMEDIATE")
            c.execute(
                _UPDATE_CASE,
                (STATES[step + 1], _dumps(data), step + 2, not final, _HASH, _sqlite_time(now))
                + (case_id, step + 1),
            )
            c.execute(_INSERT_EVENT, self._event(case_id, step + 2, step, now))
            c.execute("COMMIT")

    def finished(self) -> int:
        marks = ",".join("?" * len(self.ids))
        query = f"SELECT count(*) FROM cases WHERE state = ? AND id IN ({marks})"
        return int(self.conn.execute(query, (STATES[-1], *self.ids)).fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class QingliuEngine:
    persisted = True

    def __init__(self, url: str, timed: bool = False) -> None:
        self.engine = Engine(Store(url), REGISTRY, scope=Scope(SCOPE_PARENTS))
        self.workflow = "bench_approval_timed" if timed else "bench_approval"
        self.name = "Qingliu Engine.fire" + (", timer per state" if timed else "")
        self.ids: list[int] = []

    def create(self, n: int) -> None:
        for i in range(n):
            view = self.engine.create_case(self.workflow, case_data(i), ACTOR)
            self.ids.append(view.id)

    def fire_all(self, step: int) -> None:
        trigger = TRIGGERS[step]
        for case_id in self.ids:
            self.engine.fire(case_id, trigger, ACTOR, PAYLOAD)

    def finished(self) -> int:
        with self.engine.store.read() as tx:
            query = select(func.count()).where(
                cases.c.id.in_(self.ids), cases.c.state == STATES[-1]
            )
            return int(tx.conn.execute(query).scalar_one())

    def close(self) -> None:
        self.engine.store.dispose()


class _Model:
    state: str


class BareTransitions:
    """The same guards and actions on one ``transitions`` machine, its one model reused."""

    name = "transitions in memory"
    persisted = False

    def __init__(self) -> None:
        self.model = _Model()
        self.machine = Machine(
            model=self.model,
            states=STATES,
            transitions=[
                {
                    "trigger": t,
                    "source": s,
                    "dest": d,
                    "conditions": [self._guard],
                    "before": [self._action],
                }
                for t, s, d in zip(TRIGGERS, STATES, STATES[1:], strict=False)
            ],
            initial=STATES[0],
            auto_transitions=False,
            send_event=True,
        )
        self.cases: list[tuple[str, dict[str, Any]]] = []

    @staticmethod
    def _guard(event: Any) -> bool:
        data = event.kwargs["data"]
        return int(data["amount"]) <= int(data["limit"])

    @staticmethod
    def _action(event: Any) -> None:
        event.kwargs["data"][f"{event.event.name}_done"] = True

    def create(self, n: int) -> None:
        self.cases.extend((STATES[0], case_data(i)) for i in range(n))

    def fire_all(self, step: int) -> None:
        trigger = TRIGGERS[step]
        machine, model = self.machine, self.model
        for i, (state, data) in enumerate(self.cases):
            machine.set_state(state, model)
            machine.events[trigger].trigger(model, data=data, payload=PAYLOAD)
            self.cases[i] = (model.state, data)

    def finished(self) -> int:
        return sum(1 for state, _ in self.cases if state == STATES[-1])

    def close(self) -> None:
        self.cases.clear()
