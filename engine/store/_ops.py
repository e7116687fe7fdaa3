"""What operators watch (mixed into ``Tx``): the schedulers' heartbeats and the timer backlog.

``scheduler_heartbeats`` has one row per scheduler (``serve@host``, ``scheduler@host``),
rewritten by each of its sweeps with the wall-clock time it ran and its interval, so that
``GET /readyz`` of any server process can tell whether some sweep runs, and ``/metrics``
when the last one ran. The table is defined here, on the shared ``metadata`` (``tables.py``
is at its size limit), and created by revision 0013.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Integer, String, Table, func, select, update

from engine.store._records import insert_once
from engine.store.tables import UTCDateTime, definitions, metadata, timers

__all__ = ["Heartbeat", "OpsQueries", "TimerBacklog", "scheduler_heartbeats"]

scheduler_heartbeats = Table(
    "scheduler_heartbeats",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
)


@dataclass(frozen=True)
class Heartbeat:
    name: str
    at: datetime
    interval_seconds: int


@dataclass(frozen=True)
class TimerBacklog:
    """Pending timers due by a moment: how many, how many of those were due before the
    moment less a grace period (they will fire late), and the oldest due time."""

    due: int
    overdue: int
    oldest_due_at: datetime | None


class OpsQueries:
    conn: Connection

    def beat(self, name: str, at: datetime, interval_seconds: int) -> None:
        """Record that scheduler ``name`` swept at ``at`` (one row per name, kept current)."""
        t = scheduler_heartbeats
        values = {"at": at, "interval_seconds": interval_seconds}
        changed = self.conn.execute(update(t).where(t.c.name == name).values(**values))
        if changed.rowcount == 0 and insert_once(self.conn, t, {"name": name, **values}) is None:
            self.conn.execute(update(t).where(t.c.name == name).values(**values))

    def heartbeats(self) -> list[Heartbeat]:
        """Every scheduler's last sweep, the freshest first."""
        t = scheduler_heartbeats
        rows = self.conn.execute(select(t).order_by(t.c.at.desc(), t.c.name)).all()
        return [Heartbeat(r.name, r.at, int(r.interval_seconds)) for r in rows]

    def definition_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(definitions)).scalar_one())

    def timer_backlog(self, now: datetime, overdue_before: datetime) -> TimerBacklog:
        t = timers
        due = (t.c.status == "pending") & (t.c.due_at <= now)
        late = func.count().filter(t.c.due_at <= overdue_before)
        row = self.conn.execute(select(func.count(), late, func.min(t.c.due_at)).where(due)).one()
        return TimerBacklog(int(row[0]), int(row[1]), row[2])  # min() keeps the column's type
