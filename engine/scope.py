"""Jurisdiction reach: the one place that answers which jurisdictions an actor may reach.

An actor reaches its own jurisdiction and every one beneath it (a city bureau its counties and
zones); ``admin``, ``system`` and an actor without a jurisdiction reach everything. Every read,
list, report, export and ledger query asks here, through ``reach``, ``narrow`` or ``covers``,
and writes ask the same; nothing else works a reach out.

    scope.reach(actor)               None (everywhere) or the jurisdictions reached
    scope.narrow(actor, "donge")     the reach, narrowed to a filter and beneath it
    scope.covers(actor, "donge")     may the actor reach a record of that jurisdiction
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.definition.model import ADMIN, SYSTEM
from engine.handlers import Actor

__all__ = ["Scope"]


@dataclass(frozen=True)
class Scope:
    """The jurisdiction tree (each code's parent) and the reach it gives actors."""

    parents: Mapping[str, str | None] = field(default_factory=dict)
    _below: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def unbounded(actor: Actor) -> bool:
        """The actor reaches every jurisdiction."""
        return actor.role in (ADMIN, SYSTEM) or actor.jurisdiction is None

    def reach(self, actor: Actor) -> frozenset[str] | None:
        """The jurisdictions ``actor`` reaches; None when it reaches all of them."""
        if self.unbounded(actor):
            return None
        assert actor.jurisdiction is not None
        return self.below(actor.jurisdiction)

    def narrow(self, actor: Actor | None, wanted: str | None = None) -> list[str] | None:
        """The jurisdictions a query by ``actor`` (None: the system itself) runs over, narrowed
        to ``wanted`` and beneath it; None means no restriction at all."""
        reach = None if actor is None else self.reach(actor)
        if wanted is None:
            return None if reach is None else sorted(reach)
        below = self.below(wanted)
        return sorted(below if reach is None else reach & below)

    def covers(self, actor: Actor, jurisdiction: str | None) -> bool:
        """``actor`` may reach a case or record of ``jurisdiction`` (None: of no jurisdiction,
        which only an unbounded actor reaches)."""
        reach = self.reach(actor)
        return reach is None or (jurisdiction is not None and jurisdiction in reach)

    def knows(self, jurisdiction: str) -> bool:
        """The code is in the tree (any code is when no tree is configured)."""
        return not self.parents or jurisdiction in self.parents

    def below(self, ancestor: str) -> frozenset[str]:
        """``ancestor`` and every jurisdiction under it (worked out once per code)."""
        found = self._below.get(ancestor)
        if found is None:
            found = frozenset(j for j in {ancestor, *self.parents} if self._within(j, ancestor))
            self._below[ancestor] = found
        return found

    def beneath(self, ancestor: str) -> list[str]:
        """``below`` in code order."""
        return sorted(self.below(ancestor))

    def _within(self, jurisdiction: str | None, ancestor: str) -> bool:
        seen: set[str] = set()
        while jurisdiction is not None and jurisdiction not in seen:
            if jurisdiction == ancestor:
                return True
            seen.add(jurisdiction)
            jurisdiction = self.parents.get(jurisdiction)
        return False
