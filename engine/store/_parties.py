"""Case-party queries of the storage contract (mixed into ``Tx``): who outside government a
case is about, and how (``engine.access``: ``opened`` it, or ``named`` on it)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Select, delete, insert, select

from engine.store.tables import case_parties

__all__ = ["PartyQueries"]


class PartyQueries:
    conn: Connection

    def party_relation(self, case_id: int, party: str) -> str | None:
        """``opened`` or ``named`` (None: ``party`` is not party to the case)."""
        return self.conn.execute(
            select(case_parties.c.relation).where(
                case_parties.c.case_id == case_id, case_parties.c.party == party
            )
        ).scalar()

    def named_parties(self, case_id: int) -> set[str]:
        rows = self.conn.execute(
            select(case_parties.c.party).where(
                case_parties.c.case_id == case_id, case_parties.c.relation == "named"
            )
        )
        return set(rows.scalars())

    def add_party(self, case_id: int, party: str, relation: str) -> None:
        self.conn.execute(
            insert(case_parties), [{"case_id": case_id, "party": party, "relation": relation}]
        )

    def rename_parties(self, case_id: int, named: Iterable[str]) -> None:
        """Make the ``named`` parties of the case exactly ``named`` (the opener stays)."""
        want = set(named)
        have = self.named_parties(case_id)
        gone = sorted(have - want)
        if gone:
            self.conn.execute(
                delete(case_parties).where(
                    case_parties.c.case_id == case_id,
                    case_parties.c.relation == "named",
                    case_parties.c.party.in_(gone),
                )
            )
        new = sorted(want - have)
        if new and (opener := self._opener(case_id)) in new:
            new.remove(opener)
        if new:
            rows = [{"case_id": case_id, "party": p, "relation": "named"} for p in new]
            self.conn.execute(insert(case_parties), rows)

    def _opener(self, case_id: int) -> str | None:
        return self.conn.execute(
            select(case_parties.c.party).where(
                case_parties.c.case_id == case_id, case_parties.c.relation == "opened"
            )
        ).scalar()

    @staticmethod
    def cases_of_party(party: str) -> Select[tuple[int]]:
        """The ids of the cases ``party`` is party to (for a ``WHERE id IN``)."""
        return select(case_parties.c.case_id).where(case_parties.c.party == party)
