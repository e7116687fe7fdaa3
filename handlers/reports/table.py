"""What every report shares: the table it returns (``Report``), the cut-off of its day
(``cutoff``) and the cases it reads through the actor's read scope (``read_cases``); apart from
``compute`` so that reports in modules of their own (monitoring, patrols, campaign, screening)
share them without an import cycle (``compute.REPORTS`` lists them all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from engine.errors import Forbidden, NotFound
from engine.handlers import Actor
from engine.store.repository import CaseRow
from handlers.dates import CST
from handlers.ledger import Ledger

__all__ = ["Report", "cutoff", "read_cases", "reads", "refuse_parties"]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    as_of: str
    keys: list[str]
    header: list[str]
    rows: list[list[Any]]
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "as_of": self.as_of,
            **self.notes,
            "rows": [dict(zip(self.keys, row, strict=True)) for row in self.rows],
        }


def cutoff(as_of: date) -> datetime:
    """The end of ``as_of`` in China Standard Time, as an aware UTC datetime."""
    return datetime.combine(as_of + timedelta(days=1), time(), CST).astimezone(UTC)


def refuse_parties(ledger: Ledger, actor: Actor | None) -> None:
    """Reports are for government roles: a party (an applicant, a discharger, the public)
    reads none (403)."""
    if actor is not None and ledger.engine.access.is_party(actor):
        raise Forbidden(
            f"reports are for government roles (your role: {actor.role})", role=actor.role
        )


def reads(ledger: Ledger, actor: Actor | None, workflow: str) -> bool:
    """Whether ``actor``'s role reads ``workflow``'s cases (its latest definition's readers,
    ``engine.access``): a report counts only the cases its reader may open."""
    access = ledger.engine.access
    if access.all_seeing(actor):
        return True
    assert actor is not None
    try:
        _, definition = ledger.engine.definition(workflow)
    except NotFound:
        return False
    return actor.role in access.readers(definition)


def read_cases(ledger: Ledger, actor: Actor | None, workflow: str) -> list[CaseRow]:
    """Every case of ``workflow`` within the actor's reach (``Scope.narrow``) and of a
    workflow the actor's role reads, in id order; a party is refused."""
    refuse_parties(ledger, actor)
    if not reads(ledger, actor, workflow):
        return []
    out: list[CaseRow] = []
    after = 0
    with ledger.engine.store.read() as tx:
        reach = ledger.engine.scope.narrow(actor)
        while True:
            batch = tx.list_cases(
                workflow=workflow, jurisdictions=reach, after_id=after, limit=1000
            )
            out += batch
            if len(batch) < 1000:
                return out
            after = batch[-1].id
