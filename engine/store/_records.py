"""Subject (ledger), case-count, API token and idempotency-key queries of the storage
contract (mixed into ``Tx``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from engine.store.rows import IdempotencyRow, SubjectRow, TokenRow
from engine.store.tables import (
    api_tokens,
    cases,
    idempotency_keys,
    subjects,
)


def insert_once(conn: Connection, table: Table, values: Mapping[str, Any]) -> Any | None:
    """Insert a row unless a unique key holds it already: its primary key, or None (the
    transaction goes on, the attempt rolled back to a savepoint)."""
    savepoint = conn.begin_nested()
    try:
        found = conn.execute(insert(table).values(**values)).inserted_primary_key
    except IntegrityError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return found[0] if found is not None else None


class RecordQueries:
    conn: Connection

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

    # History rows queued until the commit (``_chain.HistoryQueries``).
    _pending: list[tuple[str, dict[str, Any]]] | None
    _seqs: dict[tuple[str, str], int] | None

    def insert_subjects(
        self, kind: str, rows: Sequence[tuple[str, Mapping[str, Any], str | None]], now: datetime
    ) -> None:
        """New subjects ``(key, data, jurisdiction)`` in one statement (executemany); an
        existing key fails it (IntegrityError): callers insert only keys they found absent."""
        if rows:
            self.conn.execute(
                insert(subjects),
                [
                    {
                        "kind": kind,
                        "key": key,
                        "data": dict(data),
                        "jurisdiction": jurisdiction,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for key, data, jurisdiction in rows
                ],
            )

    def existing_keys(self, kind: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are subjects of ``kind`` (by the primary key, 500 at a time)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            found.update(
                self.conn.execute(
                    select(subjects.c.key).where(subjects.c.kind == kind, subjects.c.key.in_(chunk))
                ).scalars()
            )
        return found

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an error inside undoes only what was done inside, then
        propagates (e.g. one bad row of an import kept out of an otherwise good batch); the
        history rows queued inside are dropped with it."""
        mark = len(self._pending or ())
        try:
            with self.conn.begin_nested():
                yield
        except BaseException:
            if self._pending:
                del self._pending[mark:]
                self._seqs = None  # rebuilt from what is left
            raise

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
        """Case counts grouped by some of workflow, workflow_version, state, jurisdiction,
        is_open."""
        allowed = {"workflow", "workflow_version", "state", "jurisdiction", "is_open"}
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
        self,
        name: str,
        role: str,
        jurisdiction: str | None,
        token_hash: str,
        now: datetime,
        expires_at: datetime | None = None,
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
                    expires_at=expires_at,
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

    def _token_where(self, *where: Any) -> TokenRow | None:
        row = self.conn.execute(select(api_tokens).where(*where)).first()
        return TokenRow(**row._mapping) if row else None

    def token_by_hash(self, token_hash: str) -> TokenRow | None:
        return self._token_where(api_tokens.c.token_hash == token_hash)

    def token_by_id(self, token_id: int) -> TokenRow | None:
        return self._token_where(api_tokens.c.id == token_id)

    def token_by_name(self, name: str) -> TokenRow | None:
        return self._token_where(api_tokens.c.name == name)

    def revoke_token(self, token_id: int, now: datetime, *, rename_to: str | None = None) -> bool:
        """Revoke a token that is not revoked yet (False if it is), renaming its row when
        ``rename_to`` is given (so that its name can be given to a new token)."""
        values: dict[str, Any] = {"revoked_at": now}
        if rename_to is not None:
            values["name"] = rename_to
        result = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(**values)
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
        values = {"token_id": token_id, "key": key, "request_hash": request_hash}
        values.update(status=status, body=body, created_at=now)
        return insert_once(self.conn, idempotency_keys, values) is not None
