"""Who may see a case and what of it: role × jurisdiction × relation, decided here for every
read, list, history, report, export and error message.

- **Jurisdiction**: the actor must reach the case's jurisdiction (``engine.scope``).
- **Role**: a definition's cases are read by its ``access.read`` roles, or by default by the
  roles it names and every government role of a level above the highest level it names (the
  supervising levels: a county flow is read by the city, the province and the nation).
  ``admin`` and ``system`` read every case.
- **Relation**: a party role (``level: party`` in the reference data: the public, an applicant,
  a discharging unit) reads only the cases it is party to: those it opened, and those whose
  party fields (``access.parties``) name it (its token's name). It acts only on those too.
- **Confidential fields** (``engine.definition.fields``): redacted for everyone but their
  readers and the party that opened the case (it gave them); an anonymous value only for the
  receiving desk. Redaction covers the case data, history payloads and patches.

A case an actor may not read does not exist for it: reads, writes and conflicts answer as if
there were no such case.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.definition.model import ADMIN, SYSTEM, Definition
from engine.handlers import Actor
from engine.roles import PARTY, RoleBook
from engine.scope import Scope

__all__ = ["Access", "OPENED", "NAMED", "party_names"]

OPENED = "opened"
NAMED = "named"
_RANK = {"county": 1, "city": 2, "province": 3, "national": 4}


def party_names(value: Any) -> Iterator[str]:
    """The names a party field holds: a string, a list of them, or objects with a ``name``."""
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, Mapping):
        yield from party_names(value.get("name"))
    elif isinstance(value, list):
        for item in value:
            yield from party_names(item)


@dataclass(frozen=True)
class Access:
    scope: Scope = field(default_factory=Scope)
    roles: RoleBook = field(default_factory=RoleBook)
    _readers: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    # -- the decision -------------------------------------------------------------------------

    @staticmethod
    def all_seeing(actor: Actor | None) -> bool:
        """None is the engine itself (handlers, replay, the sweep)."""
        return actor is None or actor.role in (ADMIN, SYSTEM)

    def is_party(self, actor: Actor) -> bool:
        return self.roles.is_party(actor.role)

    def readers(self, d: Definition) -> frozenset[str]:
        """The government roles that read ``d``'s cases (parties read by relation)."""
        found = self._readers.get(d.content_hash)
        if found is None:
            found = self._readers[d.content_hash] = self._work_out_readers(d)
        return found

    def _work_out_readers(self, d: Definition) -> frozenset[str]:
        if d.readers is not None:
            return frozenset(r for r in d.readers if not self.roles.is_party(r))
        named = {*d.roles, *(r for t in d.transitions for r in t.roles)} - {ADMIN, SYSTEM}
        named = {r for r in named if not self.roles.is_party(r)}
        ranks = [_RANK[lv] for r in named if (lv := self.roles.level(r) or "") in _RANK]
        top = max(ranks, default=None)
        above = (
            {r for r, lv in self.roles.levels.items() if _RANK.get(lv, 0) > top}
            if top is not None
            else set()
        )
        return frozenset(named | above)

    def may_read(
        self, actor: Actor | None, d: Definition, jurisdiction: str | None, relation: str | None
    ) -> bool:
        """``relation``: the actor's relation to the case (``OPENED``, ``NAMED`` or None), as
        ``Tx.party_relation`` finds it; asked only of party actors."""
        if self.all_seeing(actor):
            return True
        assert actor is not None
        if not self.scope.covers(actor, jurisdiction):
            return False
        if self.is_party(actor):
            return relation is not None
        return actor.role in self.readers(d)

    def list_filter(self, actor: Actor | None, definitions: Iterable[Definition]) -> dict[str, Any]:
        """``Tx.list_cases`` filters that keep to what ``actor`` reads (besides jurisdiction)."""
        if self.all_seeing(actor):
            return {}
        assert actor is not None
        if self.is_party(actor):
            return {"party": actor.name}
        mine = [d.name for d in definitions if actor.role in self.readers(d)]
        return {"workflows": sorted(set(mine))}

    # -- relations ----------------------------------------------------------------------------

    def parties_of(self, d: Definition, data: Mapping[str, Any]) -> set[str]:
        """The names ``d``'s party fields hold in ``data``."""
        return {name for f in d.party_fields for name in party_names(data.get(f))}

    def opener(self, actor: Actor) -> str | None:
        """The party name an opening actor leaves on the case (None: government opened it)."""
        return actor.name if self.roles.level(actor.role) == PARTY else None

    # -- confidential fields ------------------------------------------------------------------

    def hidden(
        self,
        actor: Actor | None,
        d: Definition,
        data: Mapping[str, Any],
        relation: str | None,
        released: frozenset[str] = frozenset(),
    ) -> frozenset[str]:
        """The confidential fields of ``data`` that ``actor`` may not read; ``released``: those
        whose ``until`` date has come (``released``)."""
        if not d.confidential or actor is None or actor.role == SYSTEM:
            return frozenset()
        if relation == OPENED and self.is_party(actor):
            return frozenset()  # what it gave
        return frozenset(
            name
            for name, spec in d.confidential.items()
            if name in data and not spec.readable_by(actor.role, data[name], name in released)
        )

    @staticmethod
    def released(d: Definition, case_data: Mapping[str, Any], today: date) -> frozenset[str]:
        """The confidential fields of a case that its ``until`` dates have released."""
        return frozenset(
            name for name, spec in d.confidential.items() if spec.released(case_data, today)
        )

    @staticmethod
    def redact(values: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k not in hidden}

    @staticmethod
    def redact_patch(patch: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
        out = dict(patch)
        if "set" in out:
            out["set"] = {k: v for k, v in out["set"].items() if k not in hidden}
            if not out["set"]:
                del out["set"]
        return out
