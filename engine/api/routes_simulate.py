"""``POST /api/v1/workflows/{name}/simulate`` (admin only): run a scenario (docs/simulator.md)
in a throw-away database made like the server's, beside the latest published definitions and
optionally over a draft of the workflow. The server's database is only read (its definitions).

The body is the scenario as YAML text (``application/yaml``), or JSON::

    {"scenario": "<YAML text>" | {...the scenario as a JSON object...},
     "draft": "<definition YAML text>"}       # optional: test it before publishing

A scenario that ran answers 200 with ``passed`` and the ``failures`` (each with the scenario's
line and column, what was expected and what was found) and the ``trace``; a malformed scenario
is 422 ``invalid-scenario``, a malformed draft 422 ``invalid-definition``, both with lines and
columns in ``errors``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from engine.api.auth import require_admin
from engine.api.deps import get_engine
from engine.api.problems import problem_responses
from engine.errors import FieldError, InvalidRequest
from engine.handlers import Actor
from engine.runtime import Engine
from engine.simulate import simulate_text

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])


class SimulateRequest(BaseModel):
    """The JSON form of the body."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | dict[str, Any] = Field(description="the scenario: YAML text or an object")
    draft: str | None = Field(None, description="a definition text to test, not published")


class SimulationFailure(BaseModel):
    model_config = ConfigDict(extra="allow")
    where: str
    line: int
    column: int
    path: str = Field(description="JSON path of the expectation in the scenario")
    message: str
    expected: Any = None
    found: Any = None


class SimulationResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    scenario: str
    workflow: str
    passed: bool
    steps: int
    steps_run: int
    definitions: dict[str, int] = Field(description="the versions published in the sandbox")
    trace: list[dict[str, Any]] = Field(description="one entry per history row, in order")
    failures: list[SimulationFailure]


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"description": "a scenario (docs/simulator.md)"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/SimulateRequest"}},
        },
    }
}


async def simulate_body(request: Request) -> SimulateRequest:
    raw = await request.body()
    if not raw:
        raise InvalidRequest("the body must be a scenario", [FieldError("$", "required")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"the body is not UTF-8 text: {exc.reason}") from exc
    if "json" not in request.headers.get("content-type", ""):
        return SimulateRequest(scenario=text, draft=None)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be an object", [FieldError("$", "an object")])
    errors = _shape_errors(value)
    if errors:
        raise InvalidRequest("the body breaks the API schema", errors)
    return SimulateRequest(**value)


def _shape_errors(value: dict[str, Any]) -> list[FieldError]:
    errors = [
        FieldError(f"$.{k}", "unknown member") for k in value if k not in ("scenario", "draft")
    ]
    if "scenario" not in value:
        errors.append(FieldError("$.scenario", "required"))
    elif not isinstance(value["scenario"], str | dict):
        errors.append(FieldError("$.scenario", "YAML text or an object"))
    if value.get("draft") is not None and not isinstance(value["draft"], str):
        errors.append(FieldError("$.draft", "a definition's YAML text"))
    return errors


@router.post(
    "/{name}/simulate",
    response_model=SimulationResult,
    responses=problem_responses(400, 401, 403, 404, 413, 422),
    openapi_extra=_BODY,
    summary="Run a scenario against the workflow (or a draft of it) in a throw-away database",
)
def simulate(
    name: str,
    _admin: Annotated[Actor, Depends(require_admin)],
    body: Annotated[SimulateRequest, Depends(simulate_body)],
    engine: Annotated[Engine, Depends(get_engine)],
) -> Any:
    scenario = body.scenario
    text = (
        scenario
        if isinstance(scenario, str)
        else json.dumps(scenario, ensure_ascii=False, indent=2)
    )
    _parsed, result = simulate_text(engine, name, text, body.draft)
    return result.to_json(engine.planner.calendar.tz)
