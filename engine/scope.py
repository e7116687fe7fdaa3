"""Jurisdiction scope: which cases an actor reaches (its own jurisdiction and every one
beneath it; admin, system and actors without a jurisdiction reach everything)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.definition.model import ADMIN, SYSTEM
from engine.handlers import Actor

__all__ = ["Scope"]


@dataclass(frozen=True)
class Scope:
    """Which jurisdictions an actor reaches: its own and every one beneath it."""

    parents: Mapping[str, str | None] = field(default_factory=dict)

    def covers(self, actor: Actor, jurisdiction: str | None) -> bool:
        if actor.role in (ADMIN, SYSTEM) or actor.jurisdiction is None:
            return True
        return self.within(jurisdiction, actor.jurisdiction)

    def within(self, jurisdiction: str | None, ancestor: str) -> bool:
        seen: set[str] = set()
        while jurisdiction is not None and jurisdiction not in seen:
            if jurisdiction == ancestor:
                return True
            seen.add(jurisdiction)
            jurisdiction = self.parents.get(jurisdiction)
        return False

    def beneath(self, ancestor: str) -> list[str]:
        """``ancestor`` and every jurisdiction under it."""
        return sorted(j for j in {ancestor, *self.parents} if self.within(j, ancestor))
