"""The work list (待办) and the supervisors' board, as the facade answers them (mixed into
``Engine``).

``inbox``: the open cases ``actor`` may read (the read scope of ``Engine.list_cases``: role ×
jurisdiction × relation) whose current state has a transition that admits the actor's role, by
the due time of their earliest running timer or deadline (every pending timer row counts, as
the API's ``overdue`` filter counts them; paused ones, then cases without any, after those),
then by id. Which (definition version, state) pairs a role may act in is worked
out once per version from its compiled definition; the cases are filtered and ordered in SQL
(``Tx.worklist``). Guards and ``when`` conditions need the case's data and a payload: they are
not evaluated for the list, which shows where the role may act now; the case page shows the
triggers exactly available.

``board``: open cases counted in SQL by jurisdiction × workflow × colour (``Tx.board_counts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.access import Access
from engine.catalog import Catalog
from engine.clock import Clock
from engine.definition.model import Definition, TransitionSpec
from engine.handlers import Actor
from engine.scope import Scope
from engine.store.repository import CaseRow, Store, TimerRow, Tx
from engine.views import CaseView

__all__ = ["BoardCount", "WorkItem", "WorkPage", "Worklist", "earliest_deadline"]


@dataclass(frozen=True)
class WorkItem:
    """A case as a list shows it: its view (read scope applied), its workflow's title, the
    transitions the role may fire in its state (guards not evaluated) and its earliest
    live deadline."""

    view: CaseView
    workflow_title: str
    triggers: tuple[TransitionSpec, ...]
    deadline: TimerRow | None


@dataclass(frozen=True)
class WorkPage:
    items: list[WorkItem]
    total: int
    overdue: int
    offset: int
    limit: int

    @property
    def more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class BoardCount:
    jurisdiction: str | None
    workflow: str
    colour: str  # red | yellow | green
    count: int


def earliest_deadline(timers: Sequence[TimerRow]) -> TimerRow | None:
    """The running timer or deadline due first; else the first paused one; else None."""
    running = [t for t in timers if t.status == "pending"]
    if running:
        return min(running, key=lambda t: (t.due_at, t.id))
    paused = [t for t in timers if t.status == "paused"]
    return paused[0] if paused else None


@dataclass
class _Acting:
    """Per definition version and role: the states where the role may act (cached)."""

    states: dict[tuple[int, str], frozenset[str]] = field(default_factory=dict)


class Worklist:
    """Mixed into ``Engine``, whose attributes and methods below it uses."""

    store: Store
    catalog: Catalog
    scope: Scope
    access: Access
    clock: Clock

    _latest: Callable[[Tx], list[Any]]
    seen_by: Callable[..., CaseView]

    # -- the inbox ----------------------------------------------------------------------------

    def inbox(self, actor: Actor, *, offset: int = 0, limit: int = 50) -> WorkPage:
        """The page of ``actor``'s work list from ``offset``, with its counts."""
        now = self.clock.now()
        with self.store.read() as tx:
            within = self._within(tx, actor)
            # the pairs keep to the readable workflows: no second filter on the workflow
            pairs = self._acting_pairs(tx, actor.role, within.pop("workflows", None))
            found = tx.worklist(pairs, now, offset=offset, limit=limit, **within)
            items = [self._item(tx, row, actor) for row in found.rows]
        return WorkPage(items, found.total, found.overdue, offset, limit)

    def work_items(self, views: Sequence[CaseView], actor: Actor) -> list[WorkItem]:
        """``views`` (as ``list_cases`` gives them) as list rows for ``actor``."""
        with self.store.read() as tx:
            return [self._describe(tx, v, actor) for v in views]

    def _within(self, tx: Tx, actor: Actor) -> dict[str, Any]:
        found = self.access.list_filter(actor, self._latest(tx))
        return {"jurisdictions": self.scope.narrow(actor), **found}

    def _acting_pairs(
        self, tx: Tx, role: str, workflows: Sequence[str] | None
    ) -> dict[int, frozenset[str]]:
        """The states where ``role`` may act, per definition version of ``workflows`` (None:
        of every workflow)."""
        acting = self._acting()
        readable = None if workflows is None else set(workflows)
        out = {}
        for definition_id, name in tx.definition_names():
            if readable is not None and name not in readable:
                continue
            key = (definition_id, role)
            states = acting.states.get(key)
            if states is None:
                d = self.catalog.compiled(tx, definition_id).definition
                states = frozenset(
                    s for t in d.transitions if t.admits(role) for s in t.sources
                ) - {name for name, spec in d.states.items() if spec.final}
                acting.states[key] = states
            if states:
                out[definition_id] = states
        return out

    def _acting(self) -> _Acting:
        found: _Acting | None = getattr(self, "_acting_cache", None)
        if found is None:
            found = _Acting()
            self._acting_cache = found
        return found

    def _item(self, tx: Tx, row: CaseRow, actor: Actor) -> WorkItem:
        wf = self.catalog.compiled(tx, row.definition_id)
        return self._describe(tx, self.seen_by(tx, wf, row, actor, with_triggers=False), actor)

    def _describe(self, tx: Tx, view: CaseView, actor: Actor) -> WorkItem:
        d = self.catalog.compiled(tx, view.case.definition_id).definition
        return WorkItem(
            view, d.title, _triggers(d, view, actor.role), earliest_deadline(view.timers)
        )

    # -- the board ----------------------------------------------------------------------------

    def board(self, actor: Actor, soon: datetime) -> list[BoardCount]:
        """``actor``'s open cases counted by jurisdiction × workflow × colour: red past due,
        yellow due before ``soon``, green otherwise."""
        now = self.clock.now()
        with self.store.read() as tx:
            within = self._within(tx, actor)
            rows = tx.board_counts(now, soon, **within)
        return [BoardCount(*r) for r in rows]

    def workflow_titles(self) -> Mapping[str, str]:
        """Each workflow's title, from its latest version."""
        with self.store.read() as tx:
            return {d.name: d.title for d in self._latest(tx)}


def _triggers(d: Definition, view: CaseView, role: str) -> tuple[TransitionSpec, ...]:
    if not view.case.is_open:
        return ()
    seen: dict[str, TransitionSpec] = {}
    for t in d.transitions:
        if view.state in t.sources and t.admits(role) and t.trigger not in seen:
            seen[t.trigger] = t
    return tuple(seen.values())
