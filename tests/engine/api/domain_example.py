"""A domain offering a router, as handlers/ does for the outfall ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from engine.api.auth import current_actor
from engine.api.deps import get_engine
from engine.domain import Domain
from engine.errors import WorkflowNotFound
from engine.handlers import Actor, Registry
from engine.runtime import Engine

router = APIRouter(prefix="/whoami", tags=["example"])


@router.get("")
def whoami(
    actor: Annotated[Actor, Depends(current_actor)],
    engine: Annotated[Engine, Depends(get_engine)],
) -> dict[str, Any]:
    return {
        "name": actor.name,
        "role": actor.role,
        "jurisdiction": actor.jurisdiction,
        "workflows": [row.name for row in engine.definitions()],
    }


@router.get("/missing")
def missing(actor: Annotated[Actor, Depends(current_actor)]) -> None:
    raise WorkflowNotFound("ledger")


def domain() -> Domain:
    return Domain("tests.engine.api.domain_example", Registry(), api_routers=lambda: [router])
