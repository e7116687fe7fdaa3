"""The only place that writes SQL (with ``_hot.py``, ``_timers.py``, ``_records.py``); one
transaction per change.

``Store.write()`` opens a write transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue
instead of failing on lock upgrade); ``Store.read()`` a read-only one. Both yield a ``Tx`` whose
methods are the whole storage contract: definitions, cases and events here, timer queries in
``_timers.py``, subjects/tokens/idempotency keys in ``_records.py``, the history's keyed global
chain in ``_chain.py`` (its rows are written when a write commits), row types in ``rows.py``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, make_url, select, update
from sqlalchemy.exc import IntegrityError

from engine.store._accounts import AccountQueries
from engine.store._attachments import AttachmentQueries
from engine.store._audit_reads import AuditQueries
from engine.store._chain import EVENT_COLUMNS, HistoryQueries, SubjectEventRow
from engine.store._connect import make_engine
from engine.store._hot import HotStatements
from engine.store._ops import OpsQueries
from engine.store._parties import PartyQueries
from engine.store._public import PublicQueries
from engine.store._records import RecordQueries
from engine.store._sqlite_write import KeptWriter, WriteBusy
from engine.store._timers import TimerQueries
from engine.store._worklist import WorklistQueries
from engine.store.rows import (
    LIVE_TIMER,
    CaseRow,
    DefinitionRow,
    EventRow,
    IdempotencyRow,
    SubjectRow,
    TimerRow,
    TokenRow,
)
from engine.store.tables import (
    cases,
    definitions,
    events,
    timers,
)

__all__ = [
    "CaseRow",
    "DefinitionRow",
    "EventRow",
    "LIVE_TIMER",
    "IdempotencyRow",
    "Store",
    "SubjectEventRow",
    "SubjectRow",
    "TimerRow",
    "TokenRow",
    "Tx",
    "WriteBusy",
]


# Store.without_waiting(): whether the next write() may still refuse to wait (one per context).
_NO_WAIT: ContextVar[list[bool] | None] = ContextVar("qingliu_no_wait", default=None)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Write connections carry the option that makes SQLite's BEGIN IMMEDIATE, set once here
        # rather than on every connection (it shares the engine's pool).
        self._writer = self.engine.execution_options(qingliu_write=True)
        # SQLite takes one writer at a time: writers queue for their turn and this process's
        # writes share one connection kept for writing (``_sqlite_write.py``).
        self._kept = (
            KeptWriter(self._writer, make_url(url).database) if url.startswith("sqlite") else None
        )
        self._hot = HotStatements(self.engine.dialect)
        # A store dropped without dispose() still closes its pooled connections.
        weakref.finalize(self, self.engine.dispose)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        if self._kept is not None:
            self._kept.dispose()
        self.engine.dispose()

    @property
    def single_writer(self) -> bool:
        """True on SQLite: one write at a time, taken in turn (``without_waiting`` applies)."""
        return self._kept is not None

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """Inside, the first ``write()`` raises ``WriteBusy`` instead of waiting for its turn
        (SQLite: another thread of this process or another process is writing); later writes
        wait as usual. So ``WriteBusy`` always means that nothing has been written yet, and
        the caller may run the whole operation again where waiting is harmless."""
        token = _NO_WAIT.set([True])
        try:
            yield
        finally:
            _NO_WAIT.reset(token)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction. A database error (unavailable, full, read-only) reaches the
        caller as SQLAlchemy raised it, after the transaction is rolled back and the
        connection left clean (or discarded), so the next write works once the fault is gone."""
        if self._kept is None:
            with self._writer.connect() as conn, conn.begin():
                tx = Tx(conn, self._hot)
                yield tx
                tx.seal_history()  # the history rows, numbered and chained, last
            return
        pending = _NO_WAIT.get()
        first = pending is not None and pending[0]
        if pending is not None:
            pending[0] = False
        with self._kept.transaction(wait=not first) as conn:
            tx = Tx(conn, self._hot)
            yield tx
            tx.seal_history()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect() as conn, conn.begin():
            yield Tx(conn, self._hot)

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read transaction that sees one moment of the database throughout, whatever
        commits meanwhile (PostgreSQL: REPEATABLE READ; a SQLite read transaction does
        anyway): for the audit, which reads every history table."""
        if self.dialect != "postgresql":
            with self.read() as tx:
                yield tx
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield Tx(conn, self._hot)


# Hot-path statements, built once: values travel as parameters, so each call skips building
# and cache-keying a new statement (SQLAlchemy still compiles each once per dialect).
_GET_CASE = select(cases).where(cases.c.id == bindparam("_case_id"))
_INSERT_CASE = insert(cases)
_DEFINITION_BY_ID = select(definitions).where(definitions.c.id == bindparam("_id"))
_LATEST_DEFINITION = (
    select(definitions)
    .where(definitions.c.name == bindparam("_name"))
    .order_by(definitions.c.version.desc())
    .limit(1)
)


class Tx(
    TimerQueries,
    RecordQueries,
    PartyQueries,
    HistoryQueries,
    AuditQueries,
    AccountQueries,
    WorklistQueries,
    PublicQueries,
    AttachmentQueries,
    OpsQueries,
):
    """The storage contract, bound to one open transaction."""

    def __init__(self, conn: Connection, hot: HotStatements) -> None:
        self.conn = conn
        self._hot = hot

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

    def definition_versions(self, name: str) -> list[DefinitionRow]:
        """Every version of workflow ``name``, oldest first."""
        rows = self.conn.execute(
            select(definitions).where(definitions.c.name == name).order_by(definitions.c.version)
        )
        return [DefinitionRow(**r._mapping) for r in rows]

    def insert_definition(
        self,
        name: str,
        version: int,
        title: str,
        source: str,
        content_hash: str,
        now: datetime,
        origin: tuple[str, str] | None = None,
    ) -> int:
        """``origin``: ``("file", path)`` or ``("api", admin name)``."""
        result = self.conn.execute(
            insert(definitions).values(
                name=name,
                version=version,
                title=title,
                source=source,
                content_hash=content_hash,
                created_at=now,
                origin=origin[0] if origin else None,
                origin_ref=origin[1][:400] if origin else None,
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
        return self._hot.lock_case(self.conn, case_id)

    def open_case_for_subject(
        self, workflow: str, subject: str, jurisdiction: str | None
    ) -> int | None:
        """The open case of ``workflow`` about ``subject`` in ``jurisdiction`` (subjects are
        unique per workflow and jurisdiction)."""
        return self.conn.execute(
            select(cases.c.id).where(
                cases.c.workflow == workflow,
                cases.c.subject == subject,
                cases.c.jurisdiction.is_(None)
                if jurisdiction is None
                else cases.c.jurisdiction == jurisdiction,
                cases.c.is_open,
            )
        ).scalar()

    def update_case(self, case_id: int, expected_version: int, values: Mapping[str, Any]) -> bool:
        """Compare-and-set on the version counter; False when another writer got there first."""
        return self._hot.update_case(self.conn, case_id, expected_version, values)

    def rewrite_case(self, case_id: int, expected_version: int, values: Mapping[str, Any]) -> bool:
        """Compare-and-set any columns of a case, its version and definition too (migrations
        and admin corrections: rare, off the hot path); False when another writer was first."""
        result = self.conn.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.version == expected_version)
            .values(**values)
        )
        return bool(result.rowcount == 1)

    def list_cases(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        subject: str | None = None,
        jurisdictions: Sequence[str] | None = None,
        workflows: Sequence[str] | None = None,
        party: str | None = None,
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
        if workflows is not None:
            query = query.where(cases.c.workflow.in_(list(workflows)))
        if party is not None:
            query = query.where(cases.c.id.in_(self.cases_of_party(party)))
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

    def insert_timers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self._hot.insert_timers(self.conn, rows)

    def cancel_state_timers(self, case_id: int, state: str) -> int:
        return self._hot.cancel_state_timers(self.conn, case_id, state)

    def live_timers(self, case_id: int) -> list[TimerRow]:
        """Pending and paused timers of a case, in due order."""
        return self._hot.live_timers(self.conn, case_id)

    def events(self, case_id: int) -> list[EventRow]:
        rows = self.conn.execute(
            select(*EVENT_COLUMNS).where(events.c.case_id == case_id).order_by(events.c.seq)
        )
        return [EventRow(**r._mapping) for r in rows]
