"""``GET /api/v1/workflows/{name}/diagram`` and ``GET /api/v1/cases/{id}/diagram``: state
diagrams as SVG (``image/svg+xml``), or Mermaid / dot text with ``?format=`` (docs/diagrams.md).
A case's diagram is read as the case is: one the caller may not read is 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from engine.api.auth import current_actor
from engine.api.deps import get_engine
from engine.api.models import MAX_ID
from engine.api.problems import problem_responses
from engine.diagram import MEDIA_TYPES, Format, case_graph, render, workflow_graph
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

EngineDep = Annotated[Engine, Depends(get_engine)]
ActorDep = Annotated[Actor, Depends(current_actor)]
FormatQuery = Annotated[
    Format, Query(description="svg (image/svg+xml), or mermaid / dot as text/plain")
]
_DIAGRAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The diagram: SVG, or Mermaid (stateDiagram-v2) / dot text with ?format=",
        "content": {
            "image/svg+xml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    },
}


def _answer(text: str, fmt: Format) -> Response:
    return Response(text, media_type=MEDIA_TYPES[fmt])


@router.get(
    "/workflows/{name}/diagram",
    tags=["workflows"],
    response_class=Response,
    responses={**_DIAGRAM, **problem_responses(401, 404, 422)},
    summary="A workflow's state diagram (latest version, or ?version=N)",
)
def workflow_diagram(
    name: str,
    engine: EngineDep,
    _actor: ActorDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    format: FormatQuery = "svg",  # noqa: A002 - the public query parameter
) -> Response:
    row, definition = engine.definition(name, version)
    return _answer(render(workflow_graph(definition, row.version), format), format)


@router.get(
    "/cases/{case_id}/diagram",
    tags=["cases"],
    response_class=Response,
    responses={**_DIAGRAM, **problem_responses(401, 404, 422)},
    summary="A case's diagram: its current state and the path it took marked",
)
def case_diagram(
    case_id: Annotated[int, Path(ge=1, le=MAX_ID, description="the case id")],
    engine: EngineDep,
    actor: ActorDep,
    format: FormatQuery = "svg",  # noqa: A002 - the public query parameter
) -> Response:
    definition, case, events = engine.case_path(case_id, actor)
    return _answer(render(case_graph(definition, case, events), format), format)
