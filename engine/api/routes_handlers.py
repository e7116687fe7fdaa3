"""``/api/v1/handlers`` (admin): the catalogue of guards and actions
(``engine.handler_catalog``), for an editor of definitions. The uses are those of the latest
published version of each workflow, shown as ``NAME vVERSION:LINE``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from engine.api.auth import require_admin
from engine.api.deps import get_engine
from engine.api.problems import problem_responses
from engine.handler_catalog import HandlerCatalog, build_catalog
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/handlers", tags=["handlers"])

EngineDep = Annotated[Engine, Depends(get_engine)]
AdminDep = Annotated[Actor, Depends(require_admin)]


class HandlerUse(BaseModel):
    model_config = ConfigDict(extra="allow")

    workflow: str
    at: str  # "rectification v3:109"
    path: str  # "$.states.planning.on_enter[1]"


class HandlerOut(BaseModel):
    """One guard or action: what it does and what it touches (``-`` lists are empty)."""

    model_config = ConfigDict(extra="allow")

    name: str
    kind: str  # guard | action
    summary: str
    function: str
    source: str
    reads: list[str]
    writes: list[str]
    payload: list[str]
    reference: list[str]
    subjects_read: list[str]
    subjects_written: list[str]
    opens: list[str]
    workflows: list[str]
    used_at: list[HandlerUse]
    doc: str | None = None  # the whole docstring: in the answer about one handler


class UnknownName(HandlerUse):
    kind: str
    name: str


class HandlerCatalogOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    handlers: list[HandlerOut]
    unused: list[str]
    unknown: list[UnknownName]
    problems: list[str]


def _catalog(engine: Engine) -> HandlerCatalog:
    texts = [(f"{row.name} v{row.version}", row.source) for row in engine.definitions()]
    return build_catalog(engine.catalog.registry, texts=texts)


@router.get(
    "",
    response_model=HandlerCatalogOut,
    responses=problem_responses(401, 403),
    summary="Every guard and action, with the fields it touches and where workflows name it "
    "(admin only)",
)
def list_handlers(engine: EngineDep, _admin: AdminDep) -> Any:
    return _catalog(engine).to_json()


@router.get(
    "/{name}",
    response_model=HandlerOut,
    responses=problem_responses(401, 403, 404),
    summary="One guard or action, with its whole description (admin only)",
)
def show_handler(name: str, engine: EngineDep, _admin: AdminDep) -> Any:
    return _catalog(engine).entry(name).to_json(full=True)
