"""FastAPI dependencies shared by the engine's routes and the domain's (``api_routers()``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from engine.api.problems import ApiProblem
from engine.runtime import Engine

__all__ = ["get_engine", "reject_unknown_query"]


async def get_engine(request: Request) -> Engine:
    """The engine the app was created with (``create_app(engine)``). The cheap dependencies
    are ``async`` so they run on the event loop, not through the thread pool."""
    engine: Engine = request.app.state.engine
    return engine


def _query_names(dependant: Any) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """A misspelt filter (``?stat=open``) is a 422, not a silently unfiltered answer."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if unknown:
        raise ApiProblem(
            422,
            "invalid-request",
            "The request breaks the API schema",
            f"unknown query parameter(s): {', '.join(unknown)}",
            errors=[
                {"in": "query", "json_path": f"$.{name}", "message": "unknown query parameter"}
                for name in unknown
            ],
        )
