"""The only place that writes SQL. Core statements on the hot path; one transaction per change.

``Store.write()`` opens a write transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue
instead of failing on lock upgrade); ``Store.read()`` a read-only one. Both yield a ``Tx`` whose
methods are the whole storage contract.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from engine.store.tables import (
    UTCDateTime,
    api_tokens,
    cases,
    definitions,
    events,
    idempotency_keys,
    subjects,
    timers,
)

__all__ = [
    "CaseRow",
    "DefinitionRow",
    "EventRow",
    "LIVE_TIMER",
    "IdempotencyRow",
    "Store",
    "SubjectRow",
    "TimerRow",
    "TokenRow",
    "Tx",
]


@dataclass(frozen=True)
class DefinitionRow:
    id: int
    name: str
    version: int
    title: str
    source: str
    content_hash: str
    created_at: datetime


@dataclass(frozen=True)
class CaseRow:
    id: int
    definition_id: int
    workflow: str
    workflow_version: int
    state: str
    data: dict[str, Any]
    version: int
    subject: str | None
    jurisdiction: str | None
    is_open: bool
    last_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EventRow:
    id: int
    case_id: int
    seq: int
    kind: str
    trigger: str | None
    transition: int | None
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    jurisdiction: str | None
    payload: dict[str, Any]
    patch: dict[str, Any]
    at: datetime
    due_at: datetime | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class TimerRow:
    id: int
    case_id: int
    name: str
    trigger: str
    state: str | None
    deadline: str | None
    due_at: datetime
    status: str
    payload: dict[str, Any]
    catch_up: str
    every: str | None
    provisional: bool
    created_at: datetime
    fired_at: datetime | None
    base_at: datetime | None = None
    duration: str | None = None
    remaining_seconds: int | None = None
    remaining_working_days: int | None = None


LIVE_TIMER = ("pending", "paused")


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    role: str
    jurisdiction: str | None
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IdempotencyRow:
    id: int
    token_id: int
    key: str
    request_hash: str
    status: int
    body: Any
    created_at: datetime


@dataclass(frozen=True)
class SubjectRow:
    kind: str
    key: str
    jurisdiction: str | None
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _json_serializer(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=_json_serializer,
            poolclass=StaticPool if ":memory:" in url else None,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("qingliu_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, json_serializer=_json_serializer, pool_pre_ping=True)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Write connections carry the option that makes SQLite's BEGIN IMMEDIATE, set once here
        # rather than on every connection (it shares the engine's pool).
        self._writer = self.engine.execution_options(qingliu_write=True)
        # SQLite takes one writer at a time and makes the others poll with growing sleeps (up
        # to 100 ms each); writers of this process queue on a lock instead, in turn.
        self._write_turn = threading.RLock() if url.startswith("sqlite") else None
        # A store dropped without dispose() still closes its pooled connections.
        weakref.finalize(self, self.engine.dispose)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_schema(self) -> None:
        """Create or upgrade the tables through the schema revisions (``qingliu db upgrade``)."""
        from engine.store.migrate import upgrade  # migrate builds on this module

        upgrade(self)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Tx]:
        if self._write_turn is None:
            with self._writer.connect() as conn, conn.begin():
                yield Tx(conn)
            return
        with self._write_turn, self._writer.connect() as conn, conn.begin():
            yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect() as conn, conn.begin():
            yield Tx(conn)


# Hot-path statements, built once: values travel as parameters, so each call skips building
# and cache-keying a new statement (SQLAlchemy still compiles each once per dialect).
_GET_CASE = select(cases).where(cases.c.id == bindparam("_case_id"))
# Lock order on PostgreSQL: a write that touches a case's timers locks the case row first.
_LOCK_CASE = _GET_CASE.with_for_update()
_INSERT_CASE = insert(cases)
_UPDATE_CASE = update(cases).where(
    cases.c.id == bindparam("_case_id"), cases.c.version == bindparam("_expected_version")
)
_INSERT_EVENT = insert(events)
_DEFINITION_BY_ID = select(definitions).where(definitions.c.id == bindparam("_id"))
_LATEST_DEFINITION = (
    select(definitions)
    .where(definitions.c.name == bindparam("_name"))
    .order_by(definitions.c.version.desc())
    .limit(1)
)
_CANCEL_STATE_TIMERS = (
    update(timers)
    .where(
        timers.c.case_id == bindparam("_case_id"),
        timers.c.status == "pending",
        timers.c.state == bindparam("_state"),
    )
    .values(status="cancelled")
)
_LIVE_TIMERS = (
    select(timers)
    .where(timers.c.case_id == bindparam("_case_id"), timers.c.status.in_(LIVE_TIMER))
    .order_by(timers.c.due_at, timers.c.id)
)


class Tx:
    """The storage contract, bound to one open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- definitions --------------------------------------------------------------------------

    def latest_definition(self, name: str) -> DefinitionRow | None:
        row = self.conn.execute(_LATEST_DEFINITION, {"_name": name}).first()
        return DefinitionRow(**row._mapping) if row else None

    def definition(self, name: str, version: int) -> DefinitionRow | None:
        row = self.conn.execute(
            select(definitions).where(definitions.c.name == name, definitions.c.version == version)
        ).first()
        return DefinitionRow(**row._mapping) if row else None

    def definition_by_id(self, definition_id: int) -> DefinitionRow | None:
        row = self.conn.execute(_DEFINITION_BY_ID, {"_id": definition_id}).first()
        return DefinitionRow(**row._mapping) if row else None

    def latest_definitions(self) -> list[DefinitionRow]:
        latest = (
            select(definitions.c.name, func.max(definitions.c.version).label("v"))
            .group_by(definitions.c.name)
            .subquery()
        )
        rows = self.conn.execute(
            select(definitions)
            .join(
                latest,
                (definitions.c.name == latest.c.name) & (definitions.c.version == latest.c.v),
            )
            .order_by(definitions.c.name)
        )
        return [DefinitionRow(**r._mapping) for r in rows]

    def insert_definition(
        self, name: str, version: int, title: str, source: str, content_hash: str, now: datetime
    ) -> int:
        result = self.conn.execute(
            insert(definitions).values(
                name=name,
                version=version,
                title=title,
                source=source,
                content_hash=content_hash,
                created_at=now,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    # -- cases --------------------------------------------------------------------------------

    def insert_case(self, values: Mapping[str, Any]) -> int:
        """Insert a case; ``None`` id back means the open-subject business key was taken."""
        result = self.conn.execute(_INSERT_CASE, dict(values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def try_insert_case(self, values: Mapping[str, Any]) -> int | None:
        savepoint = self.conn.begin_nested()
        try:
            case_id = self.insert_case(values)
        except IntegrityError:
            savepoint.rollback()
            return None
        savepoint.commit()
        return case_id

    def get_case(self, case_id: int) -> CaseRow | None:
        row = self.conn.execute(_GET_CASE, {"_case_id": case_id}).first()
        return CaseRow(**row._mapping) if row else None

    def lock_case(self, case_id: int) -> CaseRow | None:
        """Read the case and hold its row lock until the transaction ends (PostgreSQL
        ``FOR UPDATE``; SQLite's write transactions are serialised anyway). Every write that
        changes a case or its timers takes this lock first, so writers of one case queue up
        instead of deadlocking on each other's timer rows."""
        row = self.conn.execute(_LOCK_CASE, {"_case_id": case_id}).first()
        return CaseRow(**row._mapping) if row else None

    def open_case_for_subject(self, workflow: str, subject: str) -> int | None:
        return self.conn.execute(
            select(cases.c.id).where(
                cases.c.workflow == workflow, cases.c.subject == subject, cases.c.is_open
            )
        ).scalar()

    def update_case(self, case_id: int, expected_version: int, values: Mapping[str, Any]) -> bool:
        """Compare-and-set on the version counter; False when another writer got there first."""
        params = {**values, "_case_id": case_id, "_expected_version": expected_version}
        result = self.conn.execute(_UPDATE_CASE, params)
        return result.rowcount == 1

    def list_cases(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        subject: str | None = None,
        jurisdictions: Sequence[str] | None = None,
        is_open: bool | None = None,
        overdue_at: datetime | None = None,
        not_overdue_at: datetime | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[CaseRow]:
        query = select(cases).where(cases.c.id > after_id)
        if workflow is not None:
            query = query.where(cases.c.workflow == workflow)
        if state is not None:
            query = query.where(cases.c.state == state)
        if subject is not None:
            query = query.where(cases.c.subject == subject)
        if jurisdictions is not None:
            query = query.where(cases.c.jurisdiction.in_(list(jurisdictions)))
        if is_open is not None:
            query = query.where(cases.c.is_open == is_open)
        if overdue_at is not None:
            late = select(timers.c.case_id).where(
                timers.c.status == "pending", timers.c.due_at <= overdue_at
            )
            query = query.where(cases.c.id.in_(late))
        if not_overdue_at is not None:
            late = select(timers.c.case_id).where(
                timers.c.status == "pending", timers.c.due_at <= not_overdue_at
            )
            query = query.where(cases.c.id.not_in(late))
        rows = self.conn.execute(query.order_by(cases.c.id).limit(limit))
        return [CaseRow(**r._mapping) for r in rows]

    def case_ids(self) -> list[int]:
        return list(self.conn.execute(select(cases.c.id).order_by(cases.c.id)).scalars())

    # -- events -------------------------------------------------------------------------------

    def append_event(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(_INSERT_EVENT, dict(values))

    def events(self, case_id: int) -> list[EventRow]:
        rows = self.conn.execute(
            select(events).where(events.c.case_id == case_id).order_by(events.c.seq)
        )
        return [EventRow(**r._mapping) for r in rows]

    # -- timers -------------------------------------------------------------------------------

    def insert_timers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(timers), [dict(r) for r in rows])

    def cancel_state_timers(self, case_id: int, state: str) -> int:
        result = self.conn.execute(_CANCEL_STATE_TIMERS, {"_case_id": case_id, "_state": state})
        return int(result.rowcount)

    def next_due_timer(self, now: datetime, skip: Sequence[int] = ()) -> TimerRow | None:
        """The earliest pending timer due by ``now`` (by due time, then id), its case locked.

        On PostgreSQL ``FOR UPDATE OF cases SKIP LOCKED`` passes over timers whose case another
        sweep or writer holds (see ``lock_case``), so concurrent sweeps take different cases and
        never wait on each other; SQLite ignores it (``BEGIN IMMEDIATE`` serialises writers).
        ``skip`` leaves out timers this sweep has already tried.
        """
        query = (
            select(timers)
            .join(cases, cases.c.id == timers.c.case_id)
            .where(timers.c.status == "pending", timers.c.due_at <= now)
        )
        if skip:
            query = query.where(timers.c.id.not_in(list(skip)))
        row = self.conn.execute(
            query.order_by(timers.c.due_at, timers.c.id)
            .limit(1)
            .with_for_update(of=cases, skip_locked=True)
        ).first()
        return TimerRow(**row._mapping) if row else None

    def set_timer(
        self, timer_id: int, values: Mapping[str, Any], *, if_status: str | None = None
    ) -> bool:
        """Update one timer; with ``if_status`` only while it still has that status (a claim)."""
        query = update(timers).where(timers.c.id == timer_id)
        if if_status is not None:
            query = query.where(timers.c.status == if_status)
        return bool(self.conn.execute(query.values(**values)).rowcount == 1)

    def get_timer(self, timer_id: int) -> TimerRow | None:
        row = self.conn.execute(select(timers).where(timers.c.id == timer_id)).first()
        return TimerRow(**row._mapping) if row else None

    def live_timers(self, case_id: int) -> list[TimerRow]:
        """Pending and paused timers of a case, in due order."""
        rows = self.conn.execute(_LIVE_TIMERS, {"_case_id": case_id})
        return [TimerRow(**r._mapping) for r in rows]

    def case_timers(self, case_id: int) -> list[TimerRow]:
        """Every timer row of a case, any status, oldest first."""
        rows = self.conn.execute(
            select(timers).where(timers.c.case_id == case_id).order_by(timers.c.id)
        )
        return [TimerRow(**r._mapping) for r in rows]

    def deadline_timers(self, case_id: int, deadline: str) -> list[TimerRow]:
        """Every row a deadline ever had on a case (any status), oldest first."""
        rows = self.conn.execute(
            select(timers)
            .where(timers.c.case_id == case_id, timers.c.deadline == deadline)
            .order_by(timers.c.id)
        )
        return [TimerRow(**r._mapping) for r in rows]

    def has_pending_timer(self, case_id: int, name: str) -> bool:
        found = self.conn.execute(
            select(timers.c.id)
            .where(
                timers.c.case_id == case_id,
                timers.c.status == "pending",
                timers.c.name == name,
            )
            .limit(1)
        ).first()
        return found is not None

    def provisional_timers(self, limit: int = 10_000) -> list[TimerRow]:
        """Live (pending or paused) timers whose due time is provisional (``calendar check``)."""
        query = select(timers).where(timers.c.provisional, timers.c.status.in_(LIVE_TIMER))
        rows = self.conn.execute(query.order_by(timers.c.due_at, timers.c.id).limit(limit))
        return [TimerRow(**r._mapping) for r in rows]

    def settleable_timers(self, due_before: datetime, limit: int = 10_000) -> list[TimerRow]:
        """Pending provisional timers due before ``due_before``: the ones a newly covered year
        can settle. Read through the partial index ``ix_timers_provisional`` only, so the cost
        follows the provisional rows, not the table (SQLite without statistics would rather
        walk ``ix_timers_status_due`` over every pending row, hence ``INDEXED BY``)."""
        if self.conn.dialect.name == "sqlite":
            query: Any = (
                text(
                    "SELECT * FROM timers INDEXED BY ix_timers_provisional "
                    "WHERE provisional = 1 AND status = 'pending' AND due_at < :before "
                    "ORDER BY due_at, id LIMIT :limit"
                )
                .bindparams(bindparam("before", due_before, type_=UTCDateTime()))
                .bindparams(limit=limit)
                .columns(*timers.columns)
            )
        else:
            query = (
                select(timers)
                .where(
                    timers.c.provisional,
                    timers.c.status == literal_column("'pending'"),
                    timers.c.due_at < due_before,
                )
                .order_by(timers.c.due_at, timers.c.id)
                .limit(limit)
            )
        return [TimerRow(**r._mapping) for r in self.conn.execute(query)]

    def pending_timers(self, case_id: int) -> list[TimerRow]:
        rows = self.conn.execute(
            select(timers)
            .where(timers.c.case_id == case_id, timers.c.status == "pending")
            .order_by(timers.c.due_at, timers.c.id)
        )
        return [TimerRow(**r._mapping) for r in rows]

    # -- subjects -----------------------------------------------------------------------------

    def get_subject(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(subjects.c.data).where(subjects.c.kind == kind, subjects.c.key == key)
        ).first()
        return dict(row[0]) if row else None

    def put_subject(
        self,
        kind: str,
        key: str,
        data: Mapping[str, Any],
        jurisdiction: str | None,
        now: datetime,
    ) -> None:
        changed = self.conn.execute(
            update(subjects)
            .where(subjects.c.kind == kind, subjects.c.key == key)
            .values(data=dict(data), jurisdiction=jurisdiction, updated_at=now)
        )
        if changed.rowcount == 0:
            self.conn.execute(
                insert(subjects).values(
                    kind=kind,
                    key=key,
                    data=dict(data),
                    jurisdiction=jurisdiction,
                    created_at=now,
                    updated_at=now,
                )
            )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an error inside undoes only what was done inside, then
        propagates (e.g. one bad row of an import kept out of an otherwise good batch)."""
        with self.conn.begin_nested():
            yield

    def list_subjects(
        self,
        kind: str,
        *,
        jurisdictions: Sequence[str] | None = None,
        fields: Mapping[str, str] | None = None,
        keys: Sequence[str] | None = None,
        after_key: str | None = None,
        limit: int | None = None,
    ) -> list[SubjectRow]:
        """Subjects of ``kind`` in key order; ``fields`` match top-level string data fields."""
        query = self._subjects_query(select(subjects), kind, jurisdictions, fields)
        if keys is not None:
            query = query.where(subjects.c.key.in_(list(keys)))
        if after_key is not None:
            query = query.where(subjects.c.key > after_key)
        query = query.order_by(subjects.c.key)
        if limit is not None:
            query = query.limit(limit)
        return [SubjectRow(**r._mapping) for r in self.conn.execute(query)]

    def count_subjects(
        self,
        kind: str,
        *,
        jurisdictions: Sequence[str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> int:
        query = self._subjects_query(
            select(func.count()).select_from(subjects), kind, jurisdictions, fields
        )
        return int(self.conn.execute(query).scalar_one())

    @staticmethod
    def _subjects_query(
        query: Select[Any],
        kind: str,
        jurisdictions: Sequence[str] | None,
        fields: Mapping[str, str] | None,
    ) -> Select[Any]:
        query = query.where(subjects.c.kind == kind)
        if jurisdictions is not None:
            query = query.where(subjects.c.jurisdiction.in_(list(jurisdictions)))
        for name, value in (fields or {}).items():
            query = query.where(subjects.c.data[name].as_string() == value)
        return query

    def count_cases(
        self,
        group_by: Sequence[str] = ("workflow", "state", "jurisdiction"),
        *,
        workflow: str | None = None,
        is_open: bool | None = None,
    ) -> list[tuple[tuple[Any, ...], int]]:
        """Case counts grouped by some of workflow, state, jurisdiction, is_open."""
        allowed = {"workflow", "state", "jurisdiction", "is_open"}
        unknown = [g for g in group_by if g not in allowed]
        if unknown:
            raise ValueError(f"cannot group cases by {', '.join(unknown)}")
        columns = [cases.c[g] for g in group_by]
        query = select(*columns, func.count()).group_by(*columns).order_by(*columns)
        if workflow is not None:
            query = query.where(cases.c.workflow == workflow)
        if is_open is not None:
            query = query.where(cases.c.is_open == is_open)
        return [(tuple(r[:-1]), int(r[-1])) for r in self.conn.execute(query)]

    # -- API tokens and idempotency keys --------------------------------------------------------

    def insert_token(
        self, name: str, role: str, jurisdiction: str | None, token_hash: str, now: datetime
    ) -> int | None:
        """The new token's id, or None when the name is taken."""
        savepoint = self.conn.begin_nested()
        try:
            result = self.conn.execute(
                insert(api_tokens).values(
                    name=name,
                    role=role,
                    jurisdiction=jurisdiction,
                    token_hash=token_hash,
                    created_at=now,
                    revoked_at=None,
                )
            )
        except IntegrityError:
            savepoint.rollback()
            return None
        savepoint.commit()
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def tokens(self) -> list[TokenRow]:
        rows = self.conn.execute(select(api_tokens).order_by(api_tokens.c.id))
        return [TokenRow(**r._mapping) for r in rows]

    def token_by_hash(self, token_hash: str) -> TokenRow | None:
        row = self.conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return TokenRow(**row._mapping) if row else None

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    def idempotency(self, token_id: int, key: str) -> IdempotencyRow | None:
        row = self.conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.token_id == token_id, idempotency_keys.c.key == key
            )
        ).first()
        return IdempotencyRow(**row._mapping) if row else None

    def insert_idempotency(
        self,
        token_id: int,
        key: str,
        request_hash: str,
        status: int,
        body: Any,
        now: datetime,
    ) -> bool:
        """Record a first response; False when the key was recorded meanwhile (another writer)."""
        savepoint = self.conn.begin_nested()
        try:
            self.conn.execute(
                insert(idempotency_keys).values(
                    token_id=token_id,
                    key=key,
                    request_hash=request_hash,
                    status=status,
                    body=body,
                    created_at=now,
                )
            )
        except IntegrityError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True
