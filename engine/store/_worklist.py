"""Work-list and board queries of the storage contract (mixed into ``Tx``): the open cases in
given (definition, state) pairs ordered by their earliest running timer or deadline, and open
cases counted by jurisdiction × workflow × how near that is. Filtering, ordering and counting
happen in SQL, so the cost follows the page, not the number of cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
)

from engine.store.rows import CaseRow
from engine.store.tables import case_parties, cases, definitions, timers

__all__ = ["WorklistQueries"]

# A timer row of the case that runs: a deadline (``timers.deadline`` set) or a timer of its
# state. Every pending row counts, as the API's ``overdue`` filter counts them.
_RUNNING = and_(timers.c.case_id == cases.c.id, timers.c.status == "pending")


def _earliest_due() -> Any:
    """The due time of the case's earliest running timer or deadline (NULL: none runs)."""
    return select(func.min(timers.c.due_at)).where(_RUNNING).scalar_subquery()


def _paused() -> ColumnElement[bool]:
    return exists().where(timers.c.case_id == cases.c.id, timers.c.status == "paused")


def _late(now: datetime) -> ColumnElement[bool]:
    return exists().where(_RUNNING, timers.c.due_at <= now)


class WorklistQueries:
    conn: Connection

    def definition_ids(self) -> list[int]:
        """Every published definition version's id."""
        return list(
            self.conn.execute(select(definitions.c.id).order_by(definitions.c.id)).scalars()
        )

    @staticmethod
    def _in_pairs(query: Select[Any], pairs: Mapping[int, Iterable[str]]) -> Select[Any]:
        """Cases of definition version ``d`` in one of the states ``pairs[d]``."""
        wanted = [
            and_(cases.c.definition_id == d, cases.c.state.in_(sorted(states)))
            for d, states in sorted(pairs.items())
            if states
        ]
        return query.where(or_(*wanted) if wanted else false())

    @staticmethod
    def _within(
        query: Select[Any],
        jurisdictions: Sequence[str] | None,
        workflows: Sequence[str] | None,
        party: str | None,
    ) -> Select[Any]:
        query = query.where(cases.c.is_open.is_(True))
        if jurisdictions is not None:
            query = query.where(cases.c.jurisdiction.in_(list(jurisdictions)))
        if workflows is not None:
            query = query.where(cases.c.workflow.in_(list(workflows)))
        if party is not None:
            query = query.where(
                cases.c.id.in_(select(case_parties.c.case_id).where(case_parties.c.party == party))
            )
        return query

    def worklist(
        self,
        pairs: Mapping[int, Iterable[str]],
        *,
        jurisdictions: Sequence[str] | None = None,
        workflows: Sequence[str] | None = None,
        party: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[CaseRow]:
        """Open cases in ``pairs`` (definition id → states), by the due time of their earliest
        running timer or deadline; cases whose deadlines are all paused next, then those
        without any; then by id."""
        due = _earliest_due()
        bucket = case((due.is_not(None), 0), (_paused(), 1), else_=2)
        query = self._within(self._in_pairs(select(cases), pairs), jurisdictions, workflows, party)
        query = query.order_by(bucket, due, cases.c.id).offset(offset).limit(limit)
        return [CaseRow(**r._mapping) for r in self.conn.execute(query)]

    def worklist_counts(
        self,
        pairs: Mapping[int, Iterable[str]],
        now: datetime,
        *,
        jurisdictions: Sequence[str] | None = None,
        workflows: Sequence[str] | None = None,
        party: str | None = None,
    ) -> tuple[int, int]:
        """How many cases ``worklist`` holds, and how many are past due (a running timer)."""
        late = func.sum(case((_late(now), 1), else_=0))
        query: Select[Any] = select(func.count(), late).select_from(cases)  # type: ignore[assignment]
        query = self._within(self._in_pairs(query, pairs), jurisdictions, workflows, party)
        found = self.conn.execute(query).one()
        return int(found[0] or 0), int(found[1] or 0)

    def board_counts(
        self,
        now: datetime,
        soon: datetime,
        *,
        jurisdictions: Sequence[str] | None = None,
        workflows: Sequence[str] | None = None,
        party: str | None = None,
    ) -> list[tuple[str | None, str, str, int]]:
        """Open cases counted by (jurisdiction, workflow, colour): ``red`` when a running
        timer or deadline is past due at ``now``, ``yellow`` when the earliest is due before
        ``soon``, ``green`` otherwise (none running, too)."""
        earliest = (
            select(timers.c.case_id, func.min(timers.c.due_at).label("due"))
            .where(timers.c.status == "pending")
            .group_by(timers.c.case_id)
            .subquery()
        )
        colour = case(
            (earliest.c.due <= now, "red"), (earliest.c.due < soon, "yellow"), else_="green"
        ).label("colour")
        query = select(cases.c.jurisdiction, cases.c.workflow, colour, func.count()).select_from(
            cases.outerjoin(earliest, earliest.c.case_id == cases.c.id)
        )
        query = self._within(query, jurisdictions, workflows, party)
        query = query.group_by(cases.c.jurisdiction, cases.c.workflow, colour)
        return [(j, w, c, int(n)) for j, w, c, n in self.conn.execute(query)]
