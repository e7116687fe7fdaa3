"""Admin-only routes: migrating running cases to another version
(``POST /api/v1/workflows/{name}/migrations``, engine/migration.py) and case administration
(``POST /api/v1/cases/{id}/admin/{correct|cancel|reopen|reassign}``, engine/admin_ops.py).
Every refusal is problem+json: 403 for a caller who is not an admin, 404 for an unknown
workflow, version or case, 409 for unmappable cases (each listed), 412 for a stale
``If-Match``, 422 with JSON paths for bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.api.auth import require_admin
from engine.api.deps import get_engine
from engine.api.idempotency import parse_if_match
from engine.api.models import MAX_ID, CaseOut, JsonValue, Name
from engine.api.problems import problem_responses
from engine.api.writes import run_write
from engine.handlers import Actor
from engine.runtime import Engine
from engine.views import CaseView

__all__ = ["cases_router", "workflows_router"]

workflows_router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
cases_router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

EngineDep = Annotated[Engine, Depends(get_engine)]
AdminDep = Annotated[Actor, Depends(require_admin)]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case id")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="the case version you read (412 if it moved on)"),
]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, description="why (recorded)")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MigrationRequest(_Body):
    to: Version = Field(description="the version to move cases to")
    from_: Version | None = Field(
        default=None, alias="from", description="only cases on this version"
    )
    map: dict[Name, Name] = Field(
        default_factory=dict, max_length=200, description="old state → state of the new version"
    )
    cases: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=10_000, description="only these cases"
    )
    dry_run: bool = False
    reason: Annotated[str, Field(max_length=2000)] | None = None


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MigrationOut(_Open):
    workflow: str
    to_version: int
    dry_run: bool
    cases: list[dict[str, Any]] = Field(
        description="per case: to_state, data_errors (JSON paths), timers (kept, cancelled, "
        "rearmed, armed), refused and reasons"
    )
    refused: list[int]
    migrated: list[int]


class CorrectRequest(_Body):
    field: Name
    value: JsonValue
    reason: Reason


class CancelRequest(_Body):
    reason: Reason


class ReopenRequest(_Body):
    state: Name
    reason: Reason


class ReassignRequest(_Body):
    jurisdiction: Name
    reason: Reason


@workflows_router.post(
    "/{name}/migrations",
    response_model=MigrationOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    summary="Migrate running cases to another version (admin only); dry_run plans only",
)
async def migrate(
    name: Annotated[str, Path(min_length=1, max_length=64)],
    body: MigrationRequest,
    admin: AdminDep,
    engine: EngineDep,
) -> Any:
    def work() -> dict[str, Any]:
        report = engine.migrate(
            name,
            body.to,
            admin,
            from_version=body.from_,
            mapping=body.map,
            case_ids=body.cases,
            dry_run=body.dry_run,
            reason=body.reason,
        )
        return report.to_json()

    return await run_write(engine, work)


async def _case_write(
    engine: Engine, response: Response, admin: Actor, write: Callable[[], CaseView]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        view = write()
        return engine.get_case(view.id, admin).to_json()

    out = await run_write(engine, work)
    response.headers["ETag"] = f'"{out["version"]}"'
    return out


_CASE_RESPONSES = problem_responses(400, 401, 403, 404, 409, 412, 413, 422)


@cases_router.post(
    "/{case_id}/admin/correct",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    summary="Correct one data field, with a reason (admin only)",
)
async def correct(
    case_id: CaseId,
    body: CorrectRequest,
    response: Response,
    admin: AdminDep,
    engine: EngineDep,
    if_match: IfMatch = None,
) -> Any:
    expected = parse_if_match(if_match)
    return await _case_write(
        engine,
        response,
        admin,
        lambda: engine.correct(case_id, body.field, body.value, admin, body.reason, expected),
    )


@cases_router.post(
    "/{case_id}/admin/cancel",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    summary="Cancel an open case, with a reason (admin only); it can be reopened",
)
async def cancel(
    case_id: CaseId,
    body: CancelRequest,
    response: Response,
    admin: AdminDep,
    engine: EngineDep,
    if_match: IfMatch = None,
) -> Any:
    expected = parse_if_match(if_match)
    return await _case_write(
        engine, response, admin, lambda: engine.cancel(case_id, admin, body.reason, expected)
    )


@cases_router.post(
    "/{case_id}/admin/reopen",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    summary="Reopen a cancelled or closed case in a state (admin only)",
)
async def reopen(
    case_id: CaseId,
    body: ReopenRequest,
    response: Response,
    admin: AdminDep,
    engine: EngineDep,
    if_match: IfMatch = None,
) -> Any:
    expected = parse_if_match(if_match)
    return await _case_write(
        engine,
        response,
        admin,
        lambda: engine.reopen(case_id, body.state, admin, body.reason, expected),
    )


@cases_router.post(
    "/{case_id}/admin/reassign",
    response_model=CaseOut,
    responses=_CASE_RESPONSES,
    summary="Move a case to another jurisdiction (admin only)",
)
async def reassign(
    case_id: CaseId,
    body: ReassignRequest,
    response: Response,
    admin: AdminDep,
    engine: EngineDep,
    if_match: IfMatch = None,
) -> Any:
    expected = parse_if_match(if_match)
    return await _case_write(
        engine,
        response,
        admin,
        lambda: engine.reassign(case_id, body.jurisdiction, admin, body.reason, expected),
    )
