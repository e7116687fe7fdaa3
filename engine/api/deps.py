"""FastAPI dependencies shared by the engine's routes and the domain's (``api_routers()``)."""

from __future__ import annotations

from fastapi import Request

from engine.runtime import Engine

__all__ = ["get_engine"]


def get_engine(request: Request) -> Engine:
    """The engine the app was created with (``create_app(engine)``)."""
    engine: Engine = request.app.state.engine
    return engine
