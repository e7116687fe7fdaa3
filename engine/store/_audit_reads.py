"""The history as ``qingliu audit verify`` reads it (mixed into ``Tx``): streams of plain
tuples in big batches, a server-side cursor on PostgreSQL, so the audit's memory stays flat
however long the history is and no row object is built per row.

``audit_events`` gives each event with the canonical text its per-case hash covers
(``hashed_body`` of ``_chain.py``), made from the columns as the driver returns them (JSON
text on SQLite, decoded JSON on PostgreSQL; times as naive UTC text or datetimes) exactly as
``chain_hash`` makes it from an ``EventRow``: times in ISO 8601 with their UTC offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Text, select, type_coerce

from engine.store._chain import HASHED, SubjectEventRow, hashed_body
from engine.store.tables import cases, events, subject_events

__all__ = ["AuditEvent", "AuditQueries"]

_BATCH = 20_000  # rows per fetch
_JSON = frozenset({"payload", "patch"})
_TIMES = frozenset({"at", "due_at"})
_AT, _DUE = HASHED.index("at"), HASHED.index("due_at")
_PAYLOAD, _PATCH = HASHED.index("payload"), HASHED.index("patch")
_loads = json.JSONDecoder().decode


class AuditEvent(NamedTuple):
    case_id: int
    seq: int
    prev_hash: str
    hash: str
    gseq: int | None
    body: str  # the canonical text of its content (``hashed_body``)
    payload: Any
    patch: Any


def _iso(value: Any) -> str | None:
    """A stored time as ``UTCDateTime`` reads it, in ISO 8601 (``datetime.isoformat``)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLite's naive UTC text, microseconds
            fraction = value[19:]
            return f"{value[:10]}T{value[11:19]}{'' if fraction == '.000000' else fraction}+00:00"
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC).isoformat()


def _json(value: Any) -> Any:
    return _loads(value) if isinstance(value, str) else value


class AuditQueries:
    conn: Connection

    def _stream(self, query: Any) -> Iterator[Any]:
        yield from self.conn.execute(query.execution_options(yield_per=_BATCH))

    def audit_events(self) -> Iterator[AuditEvent]:
        """Every event by case and number, with the canonical text of its content."""
        columns = [
            type_coerce(events.c[n], Text).label(n) if n in _JSON | _TIMES else events.c[n]
            for n in HASHED
        ]
        query = select(*columns, events.c.prev_hash, events.c.hash, events.c.gseq)
        n = len(HASHED)
        for row in self._stream(query.order_by(events.c.case_id, events.c.seq)):
            values = list(row[:n])
            values[_AT], values[_DUE] = _iso(values[_AT]), _iso(values[_DUE])
            payload = values[_PAYLOAD] = _json(values[_PAYLOAD])
            patch = values[_PATCH] = _json(values[_PATCH])
            body = hashed_body(values)
            yield AuditEvent(row[0], row[1], row[n], row[n + 1], row[n + 2], body, payload, patch)

    def event_links(self) -> Iterator[Sequence[Any]]:
        """(gseq, ghash, hash, case_id, seq) of every chained event, in global order: the order
        of ``id``, as rows are numbered and inserted under the head (a row out of that order
        was moved, and the audit reports it as a gap or a repeat)."""
        query = (
            select(events.c.gseq, events.c.ghash, events.c.hash, events.c.case_id, events.c.seq)
            .where(events.c.gseq.is_not(None))
            .order_by(events.c.id)
        )
        return self._stream(query)

    def case_last_hashes(self) -> Iterator[Sequence[Any]]:
        """(id, last_hash) of every case, by id."""
        return self._stream(select(cases.c.id, cases.c.last_hash).order_by(cases.c.id))

    def subject_numbers(self) -> Iterator[Sequence[Any]]:
        """(kind, key, seq) of every subject change, by subject (in code point order on every
        backend) and number."""
        c = subject_events.c
        order: list[Any] = [c.subject_kind, c.subject_key]
        if self.conn.dialect.name == "postgresql":
            order = [column.collate("C") for column in order]
        query = select(c.subject_kind, c.subject_key, c.seq).order_by(*order, c.seq)
        return self._stream(query)

    def subject_links(self) -> Iterator[SubjectEventRow]:
        """Every subject change, in global order."""
        for row in self._stream(select(subject_events).order_by(subject_events.c.gseq)):
            yield SubjectEventRow(**row._mapping)
