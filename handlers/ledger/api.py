"""``/api/v1/outfalls``: the ledger over HTTP (list with filters and pages, read one with links
to its cases, add one - which starts its responsibility case -, change one, read the history of
its changes). Mounted by
``engine.api.app`` from the domain's routers (``handlers.domain()``); errors become
problem+json there."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.api.auth import current_actor
from engine.api.deps import get_engine
from engine.api.problems import problem_responses
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger, OutfallView
from handlers.ledger.service import change_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/outfalls", tags=["outfalls"])

EngineDep = Annotated[Engine, Depends(get_engine)]
ActorDep = Annotated[Actor, Depends(current_actor)]
Filter = Annotated[str | None, Query(min_length=1, max_length=64, pattern="^[^\\x00]*$")]
Code = Annotated[str, Path(min_length=1, max_length=200, description="the national outfall code")]


class _Fields(BaseModel):
    local_code: str | None = None
    address: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    basin: str | None = None
    entry_mode: str | None = None
    responsible_party: str | None = None
    responsible_fallback: bool | None = None
    status: str | None = None
    rectification_status: str | None = None
    setup_basis: str | None = None
    found_at: str | None = Field(default=None, description="YYYY-MM-DD")
    rectification_mode: str | None = None
    merged_into: str | None = None
    water_function_zone: str | None = Field(default=None, description="水功能区")
    zone_target: str | None = Field(default=None, description="水质目标: I..V (GB 3838-2002)")
    discharge_regime: str | None = Field(default=None, description="continuous / intermittent")
    permit_number: str | None = Field(default=None, description="排污许可证编号")
    responsible_credit_code: str | None = Field(default=None, description="统一社会信用代码")
    supervising_department: str | None = Field(default=None, description="departments.yaml")
    standardisation_status: str | None = Field(
        default=None, description="规范化建设: not_started / in_progress / done"
    )
    limits: dict[str, float] | None = Field(default=None, description="mg/L by parameter code")


class OutfallCreate(_Fields):
    """A new outfall; codes of sub_type, county and river are those of config/reference/."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="national outfall code: digits, capitals and hyphens")
    name: str
    sub_type: str
    county: str
    river: str


class OutfallPatch(_Fields):
    """The fields to change (the code cannot change)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    sub_type: str | None = None
    county: str | None = None
    river: str | None = None


class CaseLink(BaseModel):
    id: int
    workflow: str
    state: str
    state_title: str
    open: bool
    created_at: str
    updated_at: str
    href: str


class OutfallOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    name: str
    sub_type: str
    county: str
    river: str
    status: str
    created_at: str
    updated_at: str
    cases: list[CaseLink] = Field(default_factory=list)


class OutfallList(BaseModel):
    items: list[OutfallOut]
    total: int = Field(description="outfalls matching the filters")
    next: str | None = Field(description="pass as `after` for the next page; null at the end")


class OutfallChange(BaseModel):
    seq: int = Field(description="its number in the outfall's history, from 1")
    change: str = Field(description="created or updated")
    actor: str
    role: str
    jurisdiction: str | None
    patch: dict[str, Any] = Field(description='what changed: {"set": {...}, "unset": [...]}')
    at: str
    gseq: int = Field(description="its number in the global history chain (audit verify)")


class OutfallHistory(BaseModel):
    code: str
    items: list[OutfallChange]


def _out(ledger: Ledger, view: OutfallView) -> dict[str, Any]:
    return view.to_json(ledger.state_titles())


@router.get(
    "",
    response_model=OutfallList,
    responses=problem_responses(401, 422),
    summary="List outfalls (by code; page with `after` and `limit`)",
)
def list_outfalls(
    engine: EngineDep,
    actor: ActorDep,
    county: Filter = None,
    sub_type: Filter = None,
    basin: Filter = None,
    status: Filter = None,
    river: Filter = None,
    after: Annotated[str | None, Query(max_length=200, description="the `next` of a page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    ledger = Ledger(engine)
    filters = {
        "county": county,
        "sub_type": sub_type,
        "basin": basin,
        "status": status,
        "river": river,
    }
    views = ledger.list(actor, after=after, limit=limit + 1, **filters)
    page = views[:limit]
    return {
        "items": [v.to_json() for v in page],
        "total": ledger.count(actor, **filters),
        "next": page[-1].code if len(views) > limit else None,
    }


@router.get(
    "/{code}",
    response_model=OutfallOut,
    responses=problem_responses(401, 404, 422),
    summary="Read an outfall with links to every case about it",
)
def get_outfall(code: Code, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    ledger = Ledger(engine)
    return _out(ledger, ledger.get(code, actor))


@router.post(
    "",
    status_code=201,
    response_model=OutfallOut,
    responses=problem_responses(400, 401, 403, 409, 422),
    summary="Add an outfall to the ledger (starts its responsibility case)",
)
def add_outfall(
    body: OutfallCreate, response: Response, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    ledger = Ledger(engine)
    view = ledger.add(body.model_dump(exclude_none=True), actor)
    response.headers["Location"] = f"{router.prefix}/{view.code}"
    return _out(ledger, view)


@router.patch(
    "/{code}",
    response_model=OutfallOut,
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="Change an outfall's record",
)
def update_outfall(
    code: Code, body: OutfallPatch, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    ledger = Ledger(engine)
    return _out(ledger, ledger.update(code, body.model_dump(exclude_unset=True), actor))


@router.get(
    "/{code}/history",
    response_model=OutfallHistory,
    responses=problem_responses(401, 404, 422),
    summary="Every change to an outfall's record: who, when, what (oldest first)",
)
def outfall_history(code: Code, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    changes = Ledger(engine).history(code, actor)
    return {"code": code, "items": [change_json(c) for c in changes]}
