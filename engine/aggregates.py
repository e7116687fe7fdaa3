"""Grouped counts as an actor may see them: the store's aggregates (``engine.store._aggregates``)
run over the actor's read scope, exactly as reads apply it (``engine.reads``): the subjects and
cases of the jurisdictions it reaches (``Scope.narrow``), the cases only of the workflows its
role reads (``Access.list_filter``). Counts are for government roles and the engine: a party,
which reads cases by relation, is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.errors import Forbidden
from engine.handlers import Actor
from engine.store import _aggregates
from engine.store._aggregates import Key

if TYPE_CHECKING:
    from engine.reads import Reads

__all__ = ["count_subjects"]


def count_subjects(
    engine: Reads,
    actor: Actor | None,
    kind: str,
    group_by: Sequence[Key],
    *,
    created_before: datetime | None = None,
) -> list[tuple[tuple[Any, ...], int]]:
    """Subjects of ``kind`` the actor reaches, counted by ``group_by`` (its facts about cases
    over the cases the actor may read)."""
    if actor is not None and engine.access.is_party(actor):
        raise Forbidden(
            f"counts are for government roles (your role: {actor.role})", role=actor.role
        )
    reach = engine.scope.narrow(actor)
    with engine.store.read() as tx:
        within = engine.access.list_filter(actor, engine._latest(tx))
        return _aggregates.count_subjects(
            tx.conn,
            kind,
            group_by,
            jurisdictions=reach,
            created_before=created_before,
            case_jurisdictions=reach,
            case_workflows=within.get("workflows"),
        )
