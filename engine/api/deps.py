"""FastAPI dependencies shared by the engine's routes and the domain's (``api_routers()``)."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from fastapi import Request
from fastapi.routing import APIRoute

from engine.errors import FieldError, InvalidRequest
from engine.runtime import Engine

__all__ = ["get_engine", "reject_unknown_query"]


async def get_engine(request: Request) -> Engine:
    """The engine the app was created with (``create_app(engine)``). The cheap dependencies
    are ``async`` so they run on the event loop, not through the thread pool."""
    engine: Engine = request.app.state.engine
    return engine


_FIELDS = "_qingliu_query_fields"


def _route_fields(route: APIRoute) -> dict[str, Any]:
    """The query parameters the route declares, worked out on its first request and kept on
    the route (routes are neither hashable nor weak-referenceable keys)."""
    fields: dict[str, Any] | None = getattr(route, _FIELDS, None)
    if fields is None:
        fields = _query_fields(route.dependant)
        setattr(route, _FIELDS, fields)
    return fields


def _query_fields(dependant: Any) -> dict[str, Any]:
    fields = {field.alias: field for field in dependant.query_params}
    for sub in dependant.dependencies:
        fields.update(_query_fields(sub))
    return fields


def _takes_many(field: Any) -> bool:
    annotation = field.field_info.annotation
    kinds = [annotation, *get_args(annotation)]
    return any(get_origin(kind) in (list, set, tuple, frozenset) for kind in kinds)


def _query_problems(request: Request, fields: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for name in sorted(set(request.query_params)):
        field = fields.get(name)
        if field is None:
            problems.append((name, "unknown query parameter"))
        elif len(request.query_params.getlist(name)) > 1 and not _takes_many(field):
            problems.append((name, "given more than once"))
    return problems


async def reject_unknown_query(request: Request) -> None:
    """A misspelt filter (``?stat=open``) or a repeated one (``?state=a&state=b``) is a 422,
    not a silently unfiltered or half-filtered answer."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.scope.get("query_string"):
        return
    problems = _query_problems(request, _route_fields(route))
    if problems:
        raise InvalidRequest(
            "; ".join(f"query parameter {name!r}: {message}" for name, message in problems),
            [FieldError(f"$.{name}", message, "query") for name, message in problems],
        )
