"""``/api/v1/workflows``: read published definitions, check YAML, publish new versions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse

from engine.api.auth import current_actor, require_admin
from engine.api.deps import get_engine
from engine.api.models import PublishResult, ValidationResult, WorkflowList, WorkflowOut
from engine.api.problems import problem_responses
from engine.definition.sign_off import sign_offs
from engine.errors import (
    DefinitionError,
    FieldError,
    InvalidRequest,
    Problem,
    definition_errors,
)
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])

EngineDep = Annotated[Engine, Depends(get_engine)]
SOURCE = "<body>"
# Any text is accepted and checked (the answer lists its problems), so the schema is open.
_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {
                "schema": {"description": "a definition (docs/definition-language.md)"}
            }
        },
    }
}


async def yaml_body(request: Request) -> str | Problem:
    """The request body as text, or the problem that keeps it from being YAML text (its size
    is bounded before: ``engine.api.limits``)."""
    raw = await request.body()
    if not raw:
        raise InvalidRequest(
            "the body must be a YAML document", [FieldError("$", "a YAML document is required")]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(SOURCE, 1, 1, f"the body is not UTF-8 text: {exc.reason}")


YamlBody = Annotated[str | Problem, Depends(yaml_body)]


def _check(engine: Engine, text: str | Problem, name: str | None = None) -> list[Problem]:
    """Every problem in ``text`` (``Catalog.check_text``, shared with the console's editor);
    with ``name``, the definition must carry that name."""
    if isinstance(text, Problem):
        return [text]
    return engine.catalog.check_text(text, SOURCE, name)


@router.get("", response_model=WorkflowList, responses=problem_responses(401), summary="Workflows")
def list_workflows(engine: EngineDep, _actor: Annotated[Actor, Depends(current_actor)]) -> Any:
    rows = engine.definitions()
    return {
        "items": [
            {
                "name": r.name,
                "version": r.version,
                "title": r.title,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
    }


@router.post(
    "/validate",
    response_model=ValidationResult,
    responses=problem_responses(401, 413, 422),
    openapi_extra=_YAML_BODY,
    summary="Check a definition (YAML body) without publishing it",
)
def validate(
    _actor: Annotated[Actor, Depends(current_actor)], engine: EngineDep, text: YamlBody
) -> Any:
    problems = _check(engine, text)
    return {"valid": not problems, "errors": definition_errors(problems)}


@router.get(
    "/{name}",
    response_model=WorkflowOut,
    responses={
        **problem_responses(401, 404, 422),
        200: {
            "description": "The definition as JSON, or its YAML source with ?format=yaml",
            "content": {"application/yaml": {"schema": {"description": "YAML source"}}},
        },
    },
    summary="A workflow definition (latest, or ?version=N)",
)
def get_workflow(
    name: str,
    engine: EngineDep,
    _actor: Annotated[Actor, Depends(current_actor)],
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    format: Literal["json", "yaml"] = "json",  # noqa: A002 - the public query parameter
) -> Any:
    row, definition = engine.definition(name, version)
    if format == "yaml":
        return PlainTextResponse(row.source, media_type="application/yaml; charset=utf-8")
    return {
        **definition.to_json(),
        "sign_offs": {state: s.to_json() for state, s in sign_offs(definition).items()},
        "version": row.version,
        "created_at": row.created_at.isoformat(),
    }


@router.put(
    "/{name}",
    status_code=201,
    response_model=PublishResult,
    responses={
        **problem_responses(401, 403, 413, 422),
        200: {"description": "Unchanged: the text is the latest version already"},
    },
    openapi_extra=_YAML_BODY,
    summary="Publish a new version (admin only); running cases keep their version",
)
def put_workflow(
    _admin: Annotated[Actor, Depends(require_admin)],
    name: str,
    text: YamlBody,
    response: Response,
    engine: EngineDep,
) -> Any:
    problems = _check(engine, text, name)
    if problems:
        raise DefinitionError(problems)
    assert isinstance(text, str)
    published = engine.publish(text, source=f"PUT {name}", by=_admin)
    response.headers["Location"] = f"{router.prefix}/{name}?version={published.version}"
    if not published.created:
        response.status_code = 200
    return {"name": published.name, "version": published.version, "created": published.created}
