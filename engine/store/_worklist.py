"""Work-list and board queries of the storage contract (mixed into ``Tx``): the open cases in
given (definition, state) pairs ordered by their earliest running timer or deadline, and open
cases counted by jurisdiction × workflow × how near that is. Filtering, ordering and counting
happen in SQL, so the cost follows the page, not the number of cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
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

__all__ = ["WorkRows", "WorklistQueries"]

# Every pending timer row counts as running, a deadline (``timers.deadline`` set) or a timer
# of the case's state, as the API's ``overdue`` filter counts them; paused ones are live too.
_LIVE = timers.c.status.in_(("pending", "paused"))


def _earliest_due() -> Any:
    """Each case with a running timer or deadline, and the due time of its earliest."""
    return (
        select(timers.c.case_id, func.min(timers.c.due_at).label("due"))
        .where(timers.c.status == "pending")
        .group_by(timers.c.case_id)
        .subquery()
    )


def _with_status(status: str) -> Any:
    return select(timers.c.case_id).where(timers.c.status == status)


@dataclass(frozen=True)
class WorkRows:
    rows: list[CaseRow]
    total: int
    overdue: int


class WorklistQueries:
    conn: Connection

    def definition_names(self) -> list[tuple[int, str]]:
        """Every published definition version's id and workflow name."""
        query = select(definitions.c.id, definitions.c.name).order_by(definitions.c.id)
        return [(int(i), str(n)) for i, n in self.conn.execute(query)]

    @staticmethod
    def _in_pairs(pairs: Mapping[int, Iterable[str]]) -> Any:
        """Cases of definition version ``d`` in one of the states ``pairs[d]``."""
        wanted = [
            and_(cases.c.definition_id == d, cases.c.state.in_(sorted(states)))
            for d, states in sorted(pairs.items())
            if states
        ]
        return or_(*wanted) if wanted else false()

    @staticmethod
    def _within(
        query: Select[Any],
        jurisdictions: Sequence[str] | None,
        workflows: Sequence[str] | None,
        party: str | None,
    ) -> Select[Any]:
        query = query.where(cases.c.is_open.is_(True))
        if jurisdictions is not None:
            # The column itself, so that the pairs' covering index (ix_cases_definition_state)
            # reads each pair's rows of these places only (an expression over the column read
            # each pair across every place: 2 s at a province's million cases); '' also asks
            # for the cases without a place.
            places = list(jurisdictions)
            place: Any = cases.c.jurisdiction.in_(places)
            if "" in places:
                place = or_(place, cases.c.jurisdiction.is_(None))
            query = query.where(place)
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
        now: datetime,
        *,
        jurisdictions: Sequence[str] | None = None,
        workflows: Sequence[str] | None = None,
        party: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> WorkRows:
        """Open cases in ``pairs`` (definition id → states), by the due time of their earliest
        running timer or deadline; cases whose deadlines are all paused next, then those
        without any, each by id; with how many there are and how many are past due at
        ``now``. The three parts are read one after the other, each from its own side, so a
        page costs what its part costs, not a sort of every case: the first by walking the
        pending timers in (due, case id) order to the listed cases until the page is full
        (``ix_timers_status_due_case``), each case at its first (= earliest) timer; the
        paused ones and the rest by id, counted only when a page reaches them. Overdue
        counts the listed cases over the range of pending timers due by ``now``."""

        in_pairs = self._in_pairs(pairs)  # built once: it is one clause per version

        def within(query: Select[Any]) -> Select[Any]:
            return self._within(query.where(in_pairs), jurisdictions, workflows, party)

        total = int(
            self.conn.execute(within(select(func.count()).select_from(cases))).scalar() or 0
        )
        walk = timers.join(cases, cases.c.id == timers.c.case_id)
        running = within(select(timers.c.case_id).select_from(walk)).where(
            timers.c.status == "pending"
        )
        late = within(select(func.count(timers.c.case_id.distinct())).select_from(walk)).where(
            timers.c.status == "pending", timers.c.due_at <= now
        )
        overdue = int(self.conn.execute(late).scalar() or 0)
        ids, timed = self._earliest_first(running, offset + limit)
        rows = self._by_ids(ids[offset : offset + limit])
        if timed is None or limit <= len(rows):
            return WorkRows(rows, total, overdue)
        limit -= len(rows)
        offset = max(0, offset - timed)
        paused = within(select(cases)).where(
            cases.c.id.in_(_with_status("paused")), cases.c.id.not_in(_with_status("pending"))
        )
        count = select(func.count()).select_from(paused.subquery())
        n_paused = int(self.conn.execute(count).scalar() or 0)
        parts = [
            (n_paused, paused.order_by(cases.c.id)),
            (
                total - timed - n_paused,
                within(select(cases))
                .where(~exists().where(timers.c.case_id == cases.c.id, _LIVE))
                .order_by(cases.c.id),
            ),
        ]
        for size, query in parts:
            if limit <= 0:
                break
            if offset >= size:
                offset -= size
                continue
            found = self.conn.execute(query.offset(offset).limit(limit))
            taken = [CaseRow(**r._mapping) for r in found]
            rows.extend(taken)
            limit -= len(taken)
            offset = 0
        return WorkRows(rows, total, overdue)

    def _earliest_first(self, running: Select[Any], wanted: int) -> tuple[list[int], int | None]:
        """The first ``wanted`` distinct case ids of ``running`` (pending timers' case ids)
        walked in (due, case id) order: each case at its earliest running timer. Over-fetches
        and reads further while the page is not full and timers remain; with the number of
        cases with a running timer when the walk got to the end (else None)."""
        walk = running.order_by(timers.c.due_at, timers.c.case_id)
        size = max(3 * wanted, 64)
        while True:
            found = [int(i) for i in self.conn.execute(walk.limit(size)).scalars()]
            ids = list(dict.fromkeys(found))
            if len(found) < size:
                return ids, len(ids)
            if len(ids) >= wanted:
                return ids, None
            size *= 4

    def _by_ids(self, ids: Sequence[int]) -> list[CaseRow]:
        """The cases ``ids``, in that order."""
        if not ids:
            return []
        found = self.conn.execute(select(cases).where(cases.c.id.in_(list(ids))))
        by_id = {int(r.id): CaseRow(**r._mapping) for r in found}
        return [by_id[i] for i in ids]

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
        due = _earliest_due()
        colour = case((due.c.due <= now, "red"), else_="yellow").label("colour")
        timed = select(cases.c.jurisdiction, cases.c.workflow, colour, func.count()).select_from(
            cases.join(due, due.c.case_id == cases.c.id)
        )
        timed = self._within(timed, jurisdictions, workflows, party).where(due.c.due < soon)
        timed = timed.group_by(cases.c.jurisdiction, cases.c.workflow, colour)
        every = select(cases.c.jurisdiction, cases.c.workflow, func.count())
        every = self._within(every, jurisdictions, workflows, party)
        every = every.group_by(cases.c.jurisdiction, cases.c.workflow)
        out: list[tuple[str | None, str, str, int]] = []
        near: dict[tuple[str | None, str], int] = {}
        for j, w, c, n in self.conn.execute(timed):
            out.append((j, w, c, int(n)))
            near[(j, w)] = near.get((j, w), 0) + int(n)
        for j, w, n in self.conn.execute(every):
            green = int(n) - near.get((j, w), 0)
            if green:
                out.append((j, w, "green", green))
        return out
