"""``GET /metrics``: Prometheus' text exposition format (``prometheus_client``).

What it exposes: the process's instruments (``engine.metrics``: requests, latency,
transitions, sweeps, timers fired and late, write-turn waits), or with ``qingliu serve
--workers N`` every process's, summed (prometheus_client's multiprocess mode); and gauges read
from the database when scraped (:class:`DatabaseGauges`): timers due now and overdue, the
sweep's lag, each scheduler's last sweep. docs/operations.md lists every name and label.

Who may read it: with ``QINGLIU_METRICS_TOKEN`` set, a request with ``Authorization: Bearer``
that token (from anywhere); without it, only a client on the loopback interface that no proxy
forwarded (no ``Forwarded`` or ``X-Forwarded-For`` header). Anyone else gets 403. The figures
carry no personal data, but they tell how busy each workflow is: not for the public.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.api.problems import problem_response
from engine.metrics import instruments, multiprocess_dir
from engine.runtime import Engine
from engine.time.sweep import LATE_AFTER

__all__ = ["TOKEN_ENV", "DatabaseGauges", "install", "registry_of"]

TOKEN_ENV = "QINGLIU_METRICS_TOKEN"
_PROXIED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")
log = logging.getLogger(__name__)


class DatabaseGauges:
    """The gauges read from the database at each scrape. ``qingliu_database_up`` is 0 (and
    the others absent) when it cannot be read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        now = self.engine.clock.now()
        up = GaugeMetricFamily("qingliu_database_up", "1 when /metrics could read the database")
        try:
            with self.engine.store.read() as tx:
                backlog = tx.timer_backlog(now, now - LATE_AFTER)
                beats = tx.heartbeats()
        except SQLAlchemyError:
            log.warning("metrics: the database cannot be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "qingliu_timers_due", "Pending timers due by now (the sweep fires them)", backlog.due
        )
        yield GaugeMetricFamily(
            "qingliu_timers_overdue",
            "Pending timers due more than 5 minutes ago (they will fire late)",
            backlog.overdue,
        )
        oldest = backlog.oldest_due_at
        lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "qingliu_sweep_lag_seconds", "Now less the due time of the oldest due timer", lag
        )
        last = GaugeMetricFamily(
            "qingliu_sweep_last_timestamp_seconds",
            "When each scheduler last swept (Unix time, from its heartbeat)",
            labels=["scheduler"],
        )
        for beat in beats:
            last.add_metric([beat.name], beat.at.timestamp())
        yield last


class _Forward:
    """prometheus_client's default registry (this process's instruments, and the process and
    platform collectors) inside a registry of the app's own."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry_of(engine: Engine) -> CollectorRegistry:
    """What ``/metrics`` of an app on ``engine`` exposes."""
    instruments()  # every instrument exists (at 0) before the first scrape
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward())
    registry.register(DatabaseGauges(engine))
    return registry


def _loopback(request: Request) -> bool:
    if any(name in _PROXIED for name, _ in request.scope.get("headers", ())):
        return False
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed(request: Request, token: str | None) -> bool:
    if not token:
        return _loopback(request)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # bytes: compare_digest refuses str of other characters than ASCII (a 500 otherwise)
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    )


async def metrics(request: Request) -> Response:
    app: Any = request.app
    if not _allowed(request, app.state.metrics_token):
        detail = (
            f"/metrics needs Authorization: Bearer and the {TOKEN_ENV} of the server"
            if app.state.metrics_token
            else f"/metrics answers the loopback interface only, unless {TOKEN_ENV} is set"
        )
        return problem_response(403, "forbidden", "Metrics are not public", detail, "/metrics")
    # Off the event loop: the database gauges read the database.
    from starlette.concurrency import run_in_threadpool

    body = await run_in_threadpool(generate_latest, app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, engine: Engine) -> None:
    app.state.metrics_registry = registry_of(engine)
    app.state.metrics_token = os.environ.get(TOKEN_ENV) or None
    # After the transition route, the busiest (requests are matched in route order).
    app.router.routes.insert(1, Route("/metrics", metrics, methods=["GET"], name="metrics"))
