"""What the reference data says about roles: each role's level.

``config/reference/roles.yaml`` lists roles as ``{code, title, level}``; the level is who holds
the role: ``county``, ``city``, ``province``, ``national`` (government, by the jurisdiction
tree) or ``party`` (someone outside government: an applicant, a discharging unit, the public).
A role the reference data does not list has no level: it is treated as government staff of
the jurisdiction its token names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.definition.model import ADMIN, SYSTEM

__all__ = ["LEVELS", "PARTY", "RoleBook"]

PARTY = "party"
LEVELS = ("county", "city", "province", "national", PARTY)
# Roles whose holders act inside one jurisdiction and must be issued with it.
_BOUND = frozenset({"county", PARTY})


@dataclass(frozen=True)
class RoleBook:
    levels: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_reference(cls, reference: Mapping[str, Any]) -> RoleBook:
        listing = reference.get("roles")
        if isinstance(listing, Mapping):
            listing = listing.get("roles")
        levels: dict[str, str] = {}
        titles: dict[str, str] = {}
        for item in listing or []:
            if isinstance(item, Mapping) and "code" in item:
                code = str(item["code"])
                if item.get("level") is not None:
                    levels[code] = str(item["level"])
                if item.get("title") is not None:
                    titles[code] = str(item["title"])
        return cls(levels, titles)

    def level(self, role: str) -> str | None:
        return self.levels.get(role)

    def is_party(self, role: str) -> bool:
        """Someone outside government: sees only the cases it opened or is named on."""
        return self.levels.get(role) == PARTY

    def needs_jurisdiction(self, role: str) -> bool:
        """A token of this role must name a jurisdiction (county staff and parties)."""
        return role not in (ADMIN, SYSTEM) and self.levels.get(role) in _BOUND

    def title(self, role: str) -> str:
        return self.titles.get(role, role)
