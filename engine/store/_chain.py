"""The history's keyed chain over one global sequence: the store's side (mixed into ``Tx``).

Every history row - a case event (``events``) or a change to a subject such as an outfall
record (``subject_events``) - is written when its transaction commits (``Tx.seal_history``,
called by ``Store.write`` just before ``COMMIT``): it takes the next number ``gseq`` of one
gapless sequence across all cases and subjects, and a link

    ghash = HMAC-SHA256(key, "link" | gseq | ghash of gseq - 1 | the row's digest)

where a case event's digest is its per-case hash (``chain_hash``: SHA-256 over its content
and the case's previous hash, as before revision 0005) and a subject change's digest is the
SHA-256 of its content. So a row's content can be changed and its case's chain recomputed, but
not its link without the key. The one-row table ``history_head`` holds the latest number and
link, with a MAC over both: a row deleted anywhere leaves a gap, a row deleted at the end leaves
the head pointing past the end, and neither can be papered over without the key. The chain
starts from ``genesis``: a MAC over the digest of the rows written before revision 0005
(``legacy_digest``), so from the first keyed write on those cannot change unseen either.

The head is moved by the last statements of a transaction, after every other lock it takes, so
writers queue on it (its row lock on PostgreSQL) only for their commit and never deadlock on it.
A store remembers the head it moved last: one ``UPDATE ... RETURNING`` moves the head from
there if no other writer moved it meanwhile, and in any case locks the row and returns it as it
is; when it was elsewhere, the rows are numbered from it, its MAC checked (a head rewritten
without the key is never signed again, so ``audit verify`` keeps reporting it), and a second
``UPDATE`` moves it. The key comes from the caller (``engine.keys``): the store never reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from engine.errors import ConfigError
from engine.store._hot import HotStatements
from engine.store.rows import EventRow
from engine.store.tables import events, history_head, subject_events

__all__ = [
    "EVENT_COLUMNS",
    "GENESIS",
    "HASHED",
    "HeadRow",
    "HistoryQueries",
    "SubjectEventRow",
    "case_hash",
    "chain_hash",
    "genesis",
    "hashed_body",
    "head_mac",
    "keyed",
    "link",
    "subject_digest",
]

# What a case event's per-case hash covers, in this order.
HASHED = (
    "case_id",
    "seq",
    "kind",
    "trigger",
    "transition",
    "from_state",
    "to_state",
    "actor",
    "role",
    "jurisdiction",
    "payload",
    "patch",
    "at",
    "due_at",
)
_SUBJECT_HASHED = (
    "subject_kind",
    "subject_key",
    "seq",
    "change",
    "actor",
    "role",
    "jurisdiction",
    "patch",
    "at",
)
_EVENT, _SUBJECT = "event", "subject"
GENESIS = "0" * 64  # where each case's own chain starts
# The columns an ``EventRow`` has (the chain's own columns are read by the audit alone).
EVENT_COLUMNS = [c for c in events.c if c.name not in ("gseq", "ghash")]


@dataclass(frozen=True)
class HeadRow:
    id: int
    gseq: int
    hash: str | None
    mac: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class SubjectEventRow:
    id: int
    subject_kind: str
    subject_key: str
    seq: int
    change: str
    actor: str
    role: str
    jurisdiction: str | None
    patch: dict[str, Any]
    at: datetime
    gseq: int
    ghash: str


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# ``tables.dumps`` with datetimes as ISO 8601 text, made once (``json.dumps`` with options
# builds an encoder per call).
_HASHED_BODY = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=_iso
).encode


# The hashed names in the encoder's (sorted) order with their place in ``HASHED``, and its
# string encoding (ensure_ascii off).
_SORTED = tuple(sorted((name, i) for i, name in enumerate(HASHED)))
_STRING = json.encoder.encode_basestring


# One keyed HMAC state per key: copying it skips the key schedule and OpenSSL's digest lookup.
_KEYED: dict[bytes, hmac.HMAC] = {}


def keyed(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts (JSON escapes control characters, so the separator is free)."""
    base = _KEYED.get(key)
    if base is None:
        base = _KEYED[key] = hmac.new(key, digestmod=hashlib.sha256)
    mac = base.copy()
    mac.update("\x1f".join(parts).encode("utf-8"))
    return mac.hexdigest()


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """A case event's per-case hash: SHA-256 over the case's previous hash and its content."""
    body = _HASHED_BODY({name: content.get(name) for name in HASHED})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def case_hash(prev_hash: str, body: str) -> str:
    """``chain_hash`` from the canonical text of the content (``hashed_body``)."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def hashed_body(values: Sequence[Any]) -> str:
    """The canonical text ``chain_hash`` hashes, from the ``HASHED`` values in order (times
    as ISO 8601 text): the same text, written key by key in sorted order instead of through a
    dict and the encoder's sort (the audit's hot loop)."""
    parts = []
    for name, index in _SORTED:
        value = values[index]
        if value is None:
            text = "null"
        elif type(value) is str:
            text = _STRING(value)
        elif type(value) is int:
            text = int.__repr__(value)
        elif value == {}:
            text = "{}"
        else:
            text = _HASHED_BODY(value)
        parts.append(f'"{name}":{text}')
    return "{" + ",".join(parts) + "}"


def subject_digest(content: Mapping[str, Any]) -> str:
    body = _HASHED_BODY({name: content.get(name) for name in _SUBJECT_HASHED})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def link(key: bytes, gseq: int, prev: str, digest: str) -> str:
    return keyed(key, "link", str(gseq), prev, digest)


def head_mac(key: bytes, gseq: int, ghash: str) -> str:
    return keyed(key, "head", str(gseq), ghash)


def genesis(key: bytes, legacy: str) -> str:
    """Where the keyed chain starts: a MAC over the digest of the rows from before it."""
    return keyed(key, "genesis", legacy)


def _number(
    pending: list[tuple[str, dict[str, Any]]], key: bytes, gseq: int, prev: str
) -> tuple[int, str]:
    """Give the queued rows their numbers and links after (gseq, prev); the last of both."""
    for table, row in pending:
        gseq += 1
        digest = row["hash"] if table == _EVENT else subject_digest(row)
        prev = row["ghash"] = link(key, gseq, prev, digest)
        row["gseq"] = gseq
    return gseq, prev


class HistoryQueries:
    """History rows are queued (``append_event(values, key)``, ``append_subject_event``) and
    written with their global numbers by ``seal_history`` when the transaction commits."""

    conn: Connection
    _hot: HotStatements
    _pending: list[tuple[str, dict[str, Any]]] | None = None
    _seqs: dict[tuple[str, str], int] | None = None  # queued_seqs(), rebuilt when None
    _chain_key: bytes | None = None

    def _queue(self, table: str, values: dict[str, Any], key: bytes) -> None:
        if self._pending is None:
            self._pending = []
        self._pending.append((table, values))
        self._chain_key = key

    def append_event(self, values: Mapping[str, Any], key: bytes | None = None) -> None:
        """A case event: with ``key``, chained when the transaction commits; without, written
        now exactly as given (outside the chain: ``audit verify`` will say so)."""
        if key is None:
            self._hot.append_event(self.conn, values)
        else:
            self._queue(_EVENT, values if isinstance(values, dict) else dict(values), key)

    def queued_events(self, case_id: int) -> list[EventRow]:
        """The case's history rows this transaction has queued, not yet written (they are
        when it commits), in order."""
        fields = [c.name for c in EVENT_COLUMNS if c.name != "id"]
        out = []
        for table, row in self._pending or ():
            if table == _EVENT and row["case_id"] == case_id:
                values: dict[str, Any] = {name: row.get(name) for name in fields}
                out.append(EventRow(id=0, **values))
        return out

    def append_subject_event(self, values: Mapping[str, Any], key: bytes) -> int:
        """A change to a subject (``subject_kind``, ``subject_key``, ``change``, ``actor``,
        ``role``, ``jurisdiction``, ``patch``, ``at``); returns its number in the subject's
        history."""
        kind, subject = values["subject_kind"], values["subject_key"]
        last = self.queued_seqs().get((kind, subject))
        if last is None:
            stored = self.conn.execute(
                select(func.max(subject_events.c.seq)).where(
                    subject_events.c.subject_kind == kind, subject_events.c.subject_key == subject
                )
            ).scalar()
            last = int(stored or 0)
        seq = last + 1
        self._queue(_SUBJECT, {**values, "seq": seq}, key)
        self.queued_seqs()[(kind, subject)] = seq
        return seq

    def append_first_subject_events(self, rows: Sequence[Mapping[str, Any]], key: bytes) -> None:
        """The ``created`` rows of subjects new in this transaction (``Tx.insert_subjects``):
        each the first of its subject's history (seq 1), queued as ``append_subject_event``
        queues one, without a query per row (a bulk import)."""
        seqs = self.queued_seqs()
        for values in rows:
            name = (values["subject_kind"], values["subject_key"])
            if name in seqs:
                raise ValueError(f"subject {name} already has history in this transaction")
            self._queue(_SUBJECT, {**values, "seq": 1}, key)
            seqs[name] = 1

    def queued_seqs(self) -> dict[tuple[str, str], int]:
        """(kind, key) -> the last seq queued in this transaction (kept beside ``_pending``:
        looking it up is not a scan of every queued row)."""
        if self._seqs is None:
            self._seqs = {
                (row["subject_kind"], row["subject_key"]): int(row["seq"])
                for table, row in self._pending or ()
                if table == _SUBJECT
            }
        return self._seqs

    def seal_history(self) -> None:
        """Number, link and write the queued rows, and move the head: the last statements of
        a write transaction."""
        pending, key = self._pending, self._chain_key
        if not pending or key is None:
            return
        at, hot = pending[-1][1]["at"], self._hot
        cached, sound = hot.head_cache, True
        gseq, ghash, mac = -1, "", ""
        if cached is not None:  # number from the head this store moved last
            gseq, ghash = _number(pending, key, *cached)
            mac = head_mac(key, gseq, ghash)
        head = hot.move_head(self.conn, cached or (-1, ""), gseq, ghash, mac, at)
        if head is None:
            raise ConfigError(
                "the history head (table history_head) is missing: the database was not "
                "upgraded (`qingliu db upgrade`) or it was damaged (`qingliu audit verify`)"
            )
        if head[:2] != (gseq, ghash):  # another writer moved it: number from where it is
            gseq, ghash, mac, sound = self._from_head(pending, key, head)
            hot.update_head(self.conn, gseq, ghash, mac, at)
        # Remembered at once: if this transaction does not commit after all, the next write
        # finds the head elsewhere and numbers from there.
        hot.head_cache = (gseq, ghash) if sound else None
        events_rows = [row for table, row in pending if table == _EVENT]
        hot.insert_events(self.conn, events_rows)
        if len(events_rows) < len(pending):
            self.conn.execute(insert(subject_events), [r for t, r in pending if t == _SUBJECT])
        self._pending = self._seqs = None

    def _from_head(
        self,
        pending: list[tuple[str, dict[str, Any]]],
        key: bytes,
        head: tuple[int, str | None, str | None],
    ) -> tuple[int, str, str, bool]:
        """Number the rows from the (locked) head: (last number, its link, the head's new MAC,
        whether the head verified). A head that does not verify keeps its MAC, so it never
        verifies again: writes go on, and the audit keeps reporting it."""
        start, prev, stored = head
        sound = start == 0 or (prev is not None and stored == head_mac(key, start, prev))
        if start == 0 or prev is None:
            prev = genesis(key, self.legacy_digest())
        gseq, ghash = _number(pending, key, start, prev)
        return gseq, ghash, head_mac(key, gseq, ghash) if sound else str(stored or ""), sound

    # -- reading, for the audit -----------------------------------------------------------------

    def history_head(self) -> HeadRow | None:
        row = self.conn.execute(select(history_head).where(history_head.c.id == 1)).first()
        return HeadRow(**row._mapping) if row else None

    def legacy_digest(self) -> str:
        """SHA-256 over (case, seq, hash) of every event outside the keyed chain, in order."""
        digest = hashlib.sha256()
        rows = self.conn.execute(
            select(events.c.case_id, events.c.seq, events.c.hash)
            .where(events.c.gseq.is_(None))
            .order_by(events.c.case_id, events.c.seq)
        )
        for case_id, seq, hash_ in rows:
            digest.update(f"{case_id}:{seq}:{hash_}\n".encode("ascii", "replace"))
        return digest.hexdigest()

    def chained_events(self) -> Iterator[tuple[EventRow, int | None]]:
        """Every event with its global number (None: from before the keyed chain), by case."""
        query = select(*EVENT_COLUMNS, events.c.gseq).order_by(events.c.case_id, events.c.seq)
        for row in self.conn.execute(query.execution_options(yield_per=2000)):
            values = dict(row._mapping)
            gseq = values.pop("gseq")
            yield EventRow(**values), gseq

    def subject_events(self, kind: str, key: str) -> list[SubjectEventRow]:
        rows = self.conn.execute(
            select(subject_events)
            .where(subject_events.c.subject_kind == kind, subject_events.c.subject_key == key)
            .order_by(subject_events.c.seq)
        )
        return [SubjectEventRow(**r._mapping) for r in rows]

    def last_history_at(self) -> datetime | None:
        """The time of the last history row written (case event or subject change), read
        through the primary key and the global number: the moment history has reached."""
        last_event = select(events.c.at).order_by(events.c.id.desc()).limit(1)
        last_change = select(subject_events.c.at).order_by(subject_events.c.gseq.desc()).limit(1)
        moments = [self.conn.execute(q).scalar() for q in (last_event, last_change)]
        known = [m for m in moments if m is not None]
        return max(known) if known else None
