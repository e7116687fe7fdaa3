"""Timer queries of the storage contract (mixed into ``Tx``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    literal_column,
    select,
    update,
)

from engine.store.rows import LIVE_TIMER, TimerRow
from engine.store.tables import (
    cases,
    timers,
)


class TimerQueries:
    conn: Connection

    # -- timers -------------------------------------------------------------------------------

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
        walk ``ix_timers_status_due`` over every pending row, hence the ``INDEXED BY`` hint,
        which the store's SQLite compiler renders: ``repository.SQLiteCompiler``)."""
        query = (
            select(timers)
            .with_hint(timers, "INDEXED BY ix_timers_provisional", "sqlite")
            .where(
                timers.c.provisional,  # both terms as literals: they imply the index's WHERE
                timers.c.status == literal_column("'pending'"),
                timers.c.due_at < due_before,
            )
            .order_by(timers.c.due_at, timers.c.id)
            .limit(limit)
        )
        return [TimerRow(**r._mapping) for r in self.conn.execute(query)]
