"""The raw psycopg floor of ``bench.engine_bench --backend postgresql``.

The same two statements per transition as ``RawSqlite`` (UPDATE the case row where id and
version match, INSERT one history row of 16 columns) with ``%s`` placeholders, one transaction
per transition (``conn.transaction()``: BEGIN ... COMMIT), on one psycopg connection. JSON
columns travel as ``Jsonb``, times as naive UTC, as the store's column types write them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import make_url

from bench.contestants import _HASH, _case_values, _event_values
from bench.workload import STATES, TRIGGERS, case_data

__all__ = ["RawPsycopg", "connect_arguments"]

_INSERT_CASE = (
    "INSERT INTO cases (definition_id, workflow, workflow_version, state, data, version, subject,"
    " jurisdiction, is_open, last_hash, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
_UPDATE_CASE = (
    "UPDATE cases SET state = %s, data = %s, version = %s, is_open = %s, last_hash = %s,"
    " updated_at = %s WHERE id = %s AND version = %s"
)
_INSERT_EVENT = (
    "INSERT INTO events (case_id, seq, kind, trigger, transition, from_state, to_state, actor,"
    " role, jurisdiction, payload, patch, at, due_at, prev_hash, hash)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def connect_arguments(url: str) -> dict[str, Any]:
    """psycopg's connection keywords for a SQLAlchemy URL (its query, e.g. ``options``, too)."""
    parsed = make_url(url)
    found: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    found.update(parsed.query)
    return {k: v for k, v in found.items() if v is not None}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class RawPsycopg:
    name = "raw psycopg floor"
    persisted = True

    def __init__(self, url: str, definition_id: int) -> None:
        self.conn = psycopg.connect(**connect_arguments(url), autocommit=True)
        self.cursor = self.conn.cursor()
        self.definition_id = definition_id
        self.ids: list[int] = []
        self.data: dict[int, dict[str, Any]] = {}

    @staticmethod
    def _event(case_id: int, seq: int, step: int | None, now: datetime) -> tuple[Any, ...]:
        v = _event_values(case_id, seq, step, now)
        v.update(payload=Jsonb(v["payload"]), patch=Jsonb(v["patch"]))
        return tuple(v.values())

    def create(self, n: int) -> None:
        cur = self.cursor
        for i in range(n):
            now = _now()
            data = case_data(i)
            v = _case_values(self.definition_id, data, now)
            v.update(data=Jsonb(data))
            with self.conn.transaction():
                cur.execute(_INSERT_CASE, tuple(v.values()))
                row = cur.fetchone()
                if row is None:
                    raise RuntimeError("INSERT ... RETURNING id returned no row")
                case_id = int(row[0])
                cur.execute(_INSERT_EVENT, self._event(case_id, 1, None, now))
            self.ids.append(case_id)
            self.data[case_id] = data

    def fire_all(self, step: int) -> None:
        cur = self.cursor
        done = f"{TRIGGERS[step]}_done"
        final = step + 1 == len(TRIGGERS)
        for case_id in self.ids:
            now = _now()
            data = self.data[case_id]
            data[done] = True
            with self.conn.transaction():
                cur.execute(
                    _UPDATE_CASE,
                    (STATES[step + 1], Jsonb(data), step + 2, not final, _HASH, now)
                    + (case_id, step + 1),
                )
                if cur.rowcount != 1:
                    raise RuntimeError(f"case {case_id} was not at version {step + 1}")
                cur.execute(_INSERT_EVENT, self._event(case_id, step + 2, step, now))

    def finished(self) -> int:
        query = "SELECT count(*) FROM cases WHERE state = %s AND id = ANY(%s)"
        row = self.cursor.execute(query, (STATES[-1], self.ids)).fetchone()
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        self.conn.close()
