"""The installation's logical clock: a moment kept in the database that the engine reads as
"now" when it is set (``qingliu time set``, and ``qingliu demo`` at its simulated date).

It lives in one place: ``engine.settings.build_engine`` gives every engine it builds without an
injected clock an :class:`InstallationClock`, which reads the stored moment when the engine is
built and again before each scheduled sweep (``engine.time.scheduler.run_sweep``), so the CLI,
the server, its background sweeper, the scheduler and the reports all share it. While set, time
stands still there; cleared, the engine follows the system clock. The moment is a subject
(kind ``setting``, key ``clock``), so each change is a row of the keyed history (who moved the
clock, and when). An injected clock (tests, ``tick --now``) always wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from engine.clock import Clock, SystemClock, utc
from engine.errors import Forbidden
from engine.handlers import Actor
from engine.store.repository import Store

if TYPE_CHECKING:
    from engine.runtime import Engine

__all__ = [
    "InstallationClock",
    "clear_logical_time",
    "logical_time",
    "set_logical_time",
]

KIND, KEY = "setting", "clock"
SETTERS = ("admin", "system")


class InstallationClock:
    """The stored logical time when one is set (standing still), else ``fallback``."""

    def __init__(self, store: Store, fallback: Clock | None = None) -> None:
        self.store = store
        self.fallback = fallback or SystemClock()
        self.logical: datetime | None = None

    def refresh(self) -> datetime | None:
        """Read the stored moment again (another process may have set or cleared it)."""
        self.logical = logical_time(self.store)
        return self.logical

    def now(self) -> datetime:
        return self.logical if self.logical is not None else self.fallback.now()


def logical_time(store: Store) -> datetime | None:
    """The logical time stored in the database, or None when the system clock rules."""
    with store.read() as tx:
        data = tx.get_subject(KIND, KEY)
    moment = (data or {}).get("now")
    return utc(datetime.fromisoformat(str(moment))) if moment else None


def set_logical_time(engine: Engine, moment: datetime, actor: Actor) -> datetime:
    """Keep ``moment`` as the installation's time; every engine built on the database (and
    this one, if its clock is the installation's) reads it from now on."""
    moment = utc(moment)
    _write(engine, moment, actor)
    return moment


def clear_logical_time(engine: Engine, actor: Actor) -> None:
    """Go back to the system clock."""
    _write(engine, None, actor)


def _write(engine: Engine, moment: datetime | None, actor: Actor) -> None:
    if actor.role not in SETTERS:
        raise Forbidden(
            f"only an operator (role admin) sets the installation's clock (your role: "
            f"{actor.role})",
            role=actor.role,
        )
    value = moment.isoformat() if moment is not None else None
    with engine.transaction(actor) as (_, ops):
        ops.put_subject(KIND, KEY, {"now": value}, by=actor)
    if isinstance(engine.clock, InstallationClock):
        engine.clock.refresh()
