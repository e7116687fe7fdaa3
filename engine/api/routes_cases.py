"""``/api/v1/cases``: open, list, read and advance cases, and read their history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from engine.api.auth import current_actor
from engine.api.deps import get_engine
from engine.api.limits import body_size
from engine.api.models import (
    MAX_ID,
    CaseCreate,
    CaseList,
    CaseOut,
    History,
)
from engine.api.problems import problem_responses
from engine.api.writes import HEAVY_BODY_BYTES, run_write
from engine.handlers import Actor
from engine.runtime import Engine
from engine.views import event_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

EngineDep = Annotated[Engine, Depends(get_engine)]
ActorDep = Annotated[Actor, Depends(current_actor)]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case id")]
Filter = Annotated[str | None, Query(min_length=1, max_length=200, pattern="^[^\\x00]*$")]


def _etag(version: int) -> str:
    return f'"{version}"'


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 503),
    summary="Open a case",
)
async def create_case(
    body: CaseCreate, request: Request, response: Response, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        view = engine.create_case(body.workflow, body.data, actor, subject=body.subject)
        return engine.get_case(view.id, actor).to_json()

    out = await run_write(engine, work, heavy=body_size(request.scope) > HEAVY_BODY_BYTES)
    response.headers["Location"] = f"{router.prefix}/{out['id']}"
    response.headers["ETag"] = _etag(out["version"])
    return out


@router.get(
    "",
    response_model=CaseList,
    responses=problem_responses(401, 422),
    summary="List cases (oldest first; page with `after` and `limit`)",
)
def list_cases(
    engine: EngineDep,
    actor: ActorDep,
    workflow: Filter = None,
    state: Filter = None,
    jurisdiction: Filter = None,
    subject: Filter = None,
    overdue: Annotated[
        bool | None, Query(description="true: a pending timer is past due; false: none is")
    ] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the `next` of a page")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    now = engine.clock.now()
    views = engine.list_cases(
        actor,
        jurisdiction=jurisdiction,
        workflow=workflow,
        state=state,
        subject=subject,
        overdue_at=now if overdue is True else None,
        not_overdue_at=now if overdue is False else None,
        after_id=after,
        limit=limit + 1,
    )
    page = views[:limit]
    more = len(views) > limit
    return {"items": [v.to_json() for v in page], "next": page[-1].id if more else None}


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    responses=problem_responses(401, 404, 422),
    summary="Read a case, its pending timers and the triggers you may fire now",
)
def get_case(
    case_id: CaseId, response: Response, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    out = engine.get_case(case_id, actor).to_json()
    response.headers["ETag"] = _etag(out["version"])
    return out


@router.get(
    "/{case_id}/history",
    response_model=History,
    responses=problem_responses(401, 404, 422),
    summary="The case's events, in order",
)
def history(case_id: CaseId, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return {"case_id": case_id, "items": [event_json(e) for e in engine.history(case_id, actor)]}
