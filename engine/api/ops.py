"""The probes of a process manager or load balancer: ``GET /healthz`` and ``GET /readyz``.

Neither needs a token, and neither says more than the names of its checks, ok or failed, and a
plain reason (never a URL, host, user or error text of the database: those go to the log).

* ``/healthz``: 200 ``{"status": "ok"}`` while the process answers; it touches no database.
* ``/readyz``: 200 ``{"status": "ready", "checks": {...}}`` when every check passes, else 503
  ``application/problem+json`` (type ``.../not-ready``) whose ``checks`` lists each check with
  ``status`` ``ok``, ``failed`` or ``skipped`` (after the database failed) and a reason:

  - ``database``: a cheap query answers within ``READY_TIMEOUT`` seconds;
  - ``schema``: the database is at the schema head of this version (``engine.store.migrate``);
  - ``definitions``: at least one workflow definition is published;
  - ``sweep``: the freshest scheduler heartbeat (``engine.store._ops``) is younger than twice
    its interval plus ``SWEEP_SLACK``; no heartbeat at all says that no scheduler has run.

The checks run in a small thread pool of their own, so a database that hangs ties up two
threads, not the server's; each probe waits ``READY_TIMEOUT`` seconds at most. Nothing is
cached: a database that comes back is ready at the next probe, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.routing import Route

from engine.api.problems import problem_response
from engine.runtime import Engine
from engine.store import migrate
from engine.store.repository import Tx
from engine.time.scheduler import wall_clock

__all__ = ["READY_TIMEOUT", "SWEEP_SLACK", "Check", "install", "readiness"]

READY_TIMEOUT = 3.0  # seconds a readiness probe waits for the database
SWEEP_SLACK = timedelta(seconds=30)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, failed, skipped
    reason: str = ""

    def to_json(self) -> dict[str, str]:
        found = {"name": self.name, "status": self.status}
        return {**found, "reason": self.reason} if self.reason else found


def _short_statements(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL statement_timeout = {int(READY_TIMEOUT * 1000)}"))


def _schema(conn: Connection, head: str) -> Check:
    current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return Check("schema", "ok")
    return Check("schema", "failed", "the schema is not at this version's head: qingliu db upgrade")


def _definitions(tx: Tx) -> Check:
    if tx.definition_count() > 0:
        return Check("definitions", "ok")
    return Check("definitions", "failed", "no workflow definition is published: qingliu load")


def _sweep(engine: Engine, tx: Tx) -> Check:
    beats = tx.heartbeats()
    if not beats:
        return Check(
            "sweep",
            "failed",
            "no scheduler has ever swept this database (qingliu serve without --no-scheduler, "
            "or qingliu scheduler)",
        )
    last = beats[0]
    age = wall_clock(engine).now() - last.at
    allowed = 2 * timedelta(seconds=last.interval_seconds) + SWEEP_SLACK
    if age <= allowed:
        return Check("sweep", "ok")
    return Check(
        "sweep",
        "failed",
        f"the last sweep ran {int(age.total_seconds())} s ago, more than twice its interval "
        f"({last.interval_seconds} s) plus {int(SWEEP_SLACK.total_seconds())} s",
    )


def readiness(engine: Engine, head: str) -> list[Check]:
    """The checks of ``/readyz`` against ``engine``'s database (``head``: the schema head)."""
    try:
        with engine.store.read() as tx:
            _short_statements(tx.conn)
            tx.conn.execute(text("SELECT 1"))
            checks = [Check("database", "ok"), _schema(tx.conn, head)]
            if checks[1].status == "ok":  # the tables below exist
                checks += [_definitions(tx), _sweep(engine, tx)]
            else:
                checks += [Check(n, "skipped") for n in ("definitions", "sweep")]
            return checks
    except SQLAlchemyError:
        log.warning("readiness: the database cannot be reached", exc_info=True)
        return _unreachable("the database cannot be reached")


def _unreachable(reason: str) -> list[Check]:
    skipped = [Check(n, "skipped") for n in ("schema", "definitions", "sweep")]
    return [Check("database", "failed", reason), *skipped]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    app: Any = request.app
    pool: ThreadPoolExecutor = app.state.probe_pool
    loop = asyncio.get_running_loop()
    work = loop.run_in_executor(pool, readiness, app.state.engine, app.state.schema_head)
    try:
        checks = await asyncio.wait_for(work, READY_TIMEOUT)
    except TimeoutError:
        checks = _unreachable(f"the database did not answer within {READY_TIMEOUT:g} s")
    if all(c.status == "ok" for c in checks):
        return JSONResponse({"status": "ready", "checks": {c.name: "ok" for c in checks}})
    failed = [c.name for c in checks if c.status == "failed"]
    return problem_response(
        503,
        "not-ready",
        "Not ready",
        f"failed: {', '.join(failed)}",
        "/readyz",
        checks=[c.to_json() for c in checks],
    )


def install(app: FastAPI) -> None:
    """The probes on ``app``, right after its first route (the transition route, the busiest:
    requests are matched against the routes in order)."""
    app.state.schema_head = migrate.head()
    app.state.probe_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qingliu-probe")
    app.router.routes[1:1] = [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
    ]
