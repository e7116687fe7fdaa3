"""The FastAPI application: ``create_app(engine, domain)``.

OpenAPI at ``/openapi.json``, interactive docs at ``/docs`` and ``/redoc`` (served offline by
the console, ``engine.console``, which also serves its pages on this app). Every API error is
``application/problem+json`` (``engine.api.problems``). The domain's routers
(``engine.domain.Domain.api_routers``) are mounted under ``/api/v1`` (a router whose prefix
already starts with ``/api/`` is mounted as is), with ``engine.api.auth.current_actor`` and
``engine.api.deps.get_engine`` for their dependencies. ``/healthz``, ``/readyz``
(``engine.api.ops``) and ``/metrics`` (``engine.api.metrics``) are for operators
(docs/operations.md); every answer carries an ``X-Request-ID`` (``engine.api.observe``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from engine.api import (
    metrics,
    ops,
    problems,
    routes_admin,
    routes_attachments,
    routes_cases,
    routes_diagrams,
    routes_simulate,
    routes_workflows,
    transition,
)
from engine.api.deps import reject_unknown_query
from engine.api.headers import SecurityHeaders
from engine.api.limits import BodyLimits
from engine.api.models import TransitionRequest
from engine.api.observe import Observe
from engine.api.routes_handlers import router as handlers_router
from engine.console import mount_console
from engine.console.web import refused_page
from engine.domain import Domain, load_domain
from engine.runtime import Engine
from engine.settings import DEFAULT_MAX_BODY_BYTES, build_engine, load_settings

__all__ = ["app_from_settings", "create_app"]

API_PREFIX = "/api/v1"


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=[*app.routes, transition.described],
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        # Models no route declares to FastAPI: the problem document, and the body of the
        # transition route, which reads its request itself (engine.api.transition).
        for model in (problems.ProblemDetails, TransitionRequest, routes_simulate.SimulateRequest):
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(found.pop("$defs", {}))
            components[model.__name__] = found
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(
    engine: Engine,
    domain: Domain | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    public_base_url: str | None = None,
) -> FastAPI:
    """The API on ``engine``, with the routers of ``domain`` mounted; a request body over
    ``max_body_bytes`` is 413 (``engine.api.limits``). ``public_base_url``: where agencies and
    the public reach this app (settings.yaml), for the addresses QR codes encode."""
    app = FastAPI(
        title="Qingliu (清流) API",
        version="1",
        description="Cases, transitions and history of the outfall supervision workflows. "
        "Errors are RFC 9457 problem documents (application/problem+json).",
        openapi_url="/openapi.json",
        docs_url=None,  # engine.console.docs serves /docs and /redoc offline
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.public_base_url = public_base_url
    problems.install(app)
    # The busiest route, first: a request is matched against the routes in order.
    app.router.routes.insert(0, transition.route)
    ops.install(app)  # /healthz, /readyz: no token (docs/operations.md)
    metrics.install(app, engine)  # /metrics: loopback or QINGLIU_METRICS_TOKEN
    # Every other route refuses a query parameter it does not declare.
    checked = [Depends(reject_unknown_query)]
    app.include_router(routes_workflows.router, dependencies=checked)
    app.include_router(routes_cases.router, dependencies=checked)
    app.include_router(handlers_router, dependencies=checked)
    app.include_router(routes_admin.workflows_router, dependencies=checked)
    app.include_router(routes_admin.cases_router, dependencies=checked)
    app.include_router(routes_simulate.router, dependencies=checked)
    app.include_router(routes_diagrams.router, dependencies=checked)
    app.include_router(routes_attachments.router, dependencies=checked)
    for router in domain.api_routers() if domain is not None else ():
        prefix = "" if router.prefix.startswith("/api/") else API_PREFIX
        app.include_router(router, prefix=prefix, dependencies=checked)
    mount_console(app, engine, domain)
    uploads = (routes_attachments.UPLOAD_PATHS, routes_attachments.UPLOAD_BODY_BYTES)
    forms = (routes_attachments.FORM_PATHS, routes_attachments.FORM_BODY_BYTES)
    pages = list(domain.body_ceilings()) if domain is not None else []
    checks = list(domain.body_checks()) if domain is not None else []
    app.add_middleware(
        BodyLimits,
        max_bytes=max_body_bytes,
        ceilings=[uploads, forms, *pages],
        checks=checks,
        page=refused_page,  # a console page (not /api/): the refusal as a page in Chinese
    )
    app.add_middleware(problems.Shield)  # outside: it answers what BodyLimits raises too
    app.add_middleware(SecurityHeaders)  # on every answer
    app.add_middleware(Observe)  # outermost: request id, log fields, request metrics
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_from_settings() -> FastAPI:
    """The app as each worker process of ``qingliu serve --workers N`` builds it: an engine on
    the configured database (``QINGLIU_CONFIG``, ``QINGLIU_DATABASE_URL``), whose definitions
    the parent process has loaded."""
    settings = load_settings()
    return create_app(
        build_engine(settings),
        load_domain(settings.handlers),
        max_body_bytes=settings.max_body_bytes,
        public_base_url=settings.public_base_url,
    )
