"""The HTTP API from the command line: ``token create|list|rotate|revoke`` and ``serve``
(whose access log never shows a token sent in a query string: ``engine.api.logs``)."""

from __future__ import annotations

import logging
import logging.config
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from engine.api.logs import LOG_FORMATS, HideQueryTokens, configured_format, log_config
from engine.api.tokens import (
    DEFAULT_EXPIRES,
    create_token,
    is_expired,
    list_tokens,
    revoke_token,
    rotate_token,
)
from engine.cli.base import configured_engine
from engine.cli.cases import published_line
from engine.domain import load_domain
from engine.errors import TokenError
from engine.metrics import multiprocess_dir, use_multiprocess
from engine.settings import Settings, build_engine, load_settings
from engine.time.scheduler import start_background_sweeper

__all__ = ["HideQueryTokens", "log_config", "serve", "token"]

_EXPIRES_HELP = (
    "when it stops working: 90d (days from now), 2027-06-30 (through that day, in the "
    "calendar's time zone), 2027-06-30T18:00+08:00, or never"
)


@click.group()
def token() -> None:
    """API tokens: create (shown once), list, rotate, revoke."""


@token.command("create")
@click.option("--name", required=True, help="who holds it; recorded in the history")
@click.option("--role", required=True, help="admin, or a role of a workflow or roles.yaml")
@click.option(
    "--jurisdiction",
    default=None,
    help="code from reference/jurisdictions.yaml (required for county and party roles)",
)
@click.option("--expires", default=DEFAULT_EXPIRES, show_default=True, help=_EXPIRES_HELP)
def token_create(name: str, role: str, jurisdiction: str | None, expires: str) -> None:
    """Create a token and print it, alone, on stdout. It is not shown again.

    Tokens expire 365 days after they are made unless --expires says otherwise."""
    _, secret = create_token(configured_engine(), name, role, jurisdiction, expires=expires)
    click.echo(secret)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


@token.command("list")
def token_list() -> None:
    """Tokens: id, name, role, jurisdiction, created, expires, and active, expired or revoked
    (a revoked token's name ends in [revoked #ID], or [rotated #ID])."""
    engine = configured_engine()
    now = engine.clock.now()
    for t in list_tokens(engine):
        if t.revoked_at:
            status = f"revoked {_when(t.revoked_at)}"
        else:
            status = "expired" if is_expired(t, now) else "active"
        click.echo(
            f"{t.id}\t{t.name}\t{t.role}\t{t.jurisdiction or '-'}\t"
            f"{_when(t.created_at)}\t{_when(t.expires_at)}\t{status}"
        )


def _token_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise TokenError(
            f"{text!r} is not a token id (`qingliu token list` shows the ids); "
            f"to revoke a token by its name: qingliu token revoke --name {text!r}"
        )
    if len(text) > 18:
        raise TokenError(f"no token has id {text} (`qingliu token list` shows them)")
    return int(text)


@token.command("rotate")
@click.argument("token_id", metavar="ID")
@click.option("--expires", default=DEFAULT_EXPIRES, show_default=True, help=_EXPIRES_HELP)
def token_rotate(token_id: str, expires: str) -> None:
    """Give the token ID a new secret, printed alone on stdout, with the same name, role and
    jurisdiction; the old secret stops working at once (its row is revoked and renamed)."""
    old_id = _token_id(token_id)
    new, secret = rotate_token(configured_engine(), old_id, expires=expires)
    click.echo(secret)
    click.echo(f"rotated token {old_id} ({new.name}): it is now token {new.id}", err=True)


@token.command("revoke")
@click.argument("token_id", metavar="ID", required=False)
@click.option("--name", default=None, help="revoke the (unrevoked) token of this name instead")
def token_revoke(token_id: str | None, name: str | None) -> None:
    """Revoke the token ID (or --name NAME); requests with it get 401 from now on."""
    if (token_id is None) == (name is None):
        raise click.UsageError("give a token ID or --name NAME (one of them)")
    engine = configured_engine()
    if token_id is not None:
        revoked = revoke_token(engine, _token_id(token_id))
    else:
        revoked = revoke_token(engine, name=name)
    click.echo(f"revoked token {revoked.id} ({revoked.name})", err=True)


# -- serve -------------------------------------------------------------------------------------


WORKER_HEALTHCHECK = 30  # seconds (see _serve_workers)


def _sayer(fmt: str, config: dict[str, Any]) -> Callable[[str], None]:
    """How serve tells what it loaded: on stderr as text, or (json) as log lines of its own,
    with logging configured now, before uvicorn configures it again the same way, so that the
    sweep's first lines are JSON too."""
    if fmt != "json":
        return lambda line: click.echo(line, err=True)
    logging.config.dictConfig(config)
    return logging.getLogger(__name__).info


def _metrics_folder() -> tuple[Path, bool]:
    """Where the processes of ``--workers N`` keep their metrics: ``PROMETHEUS_MULTIPROC_DIR``
    when the operator sets it (shared with a ``qingliu scheduler``; wipe it before starting),
    else a new private temporary folder, removed when the server stops (True)."""
    given = multiprocess_dir()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        return given, False
    return Path(tempfile.mkdtemp(prefix="qingliu-metrics-")), True


def _serve_workers(workers: int, options: dict[str, Any]) -> None:
    """``uvicorn.run(..., workers=N)``, but with Nagle's algorithm off on the listening socket
    (accepted connections inherit it): uvicorn binds that socket itself in this mode, so asyncio
    does not turn it off, and a keep-alive client then waits ~40 ms for each response's delayed
    second segment."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    factory = "engine.api.app:app_from_settings"
    # A new worker answers the supervisor's health pings only once it has imported the engine:
    # on a busy 2-core machine that took longer than uvicorn's 5 s, and it was killed, again
    # and again. A hung worker is still replaced, after WORKER_HEALTHCHECK seconds.
    config = uvicorn.Config(
        factory,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK,
        **options,
    )
    listening = config.bind_socket()
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[listening]).run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-scheduler", is_flag=True, help="do not run the timer sweep in this process")
@click.option("--sweep-seconds", default=30, show_default=True, type=click.IntRange(1))
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="one line per request"
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="server processes (the timer sweep stays in this one)",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS, case_sensitive=False),
    default=None,
    help="text (default) or json lines; else log_format in settings.yaml, QINGLIU_LOG_FORMAT",
)
def serve(
    host: str,
    port: int,
    no_scheduler: bool,
    sweep_seconds: int,
    access_log: bool,
    workers: int,
    log_format: str | None,
) -> None:
    """Load the configured workflows folder and serve the HTTP API (docs at /docs).

    With --workers N, N processes serve requests on the same port (each with its own engine
    and connections); on SQLite they take turns to write (engine/store/_turn.py), and they
    share their metrics through prometheus_client's multiprocess mode (docs/operations.md).
    Health: /healthz, /readyz; Prometheus: /metrics."""
    settings = load_settings()
    fmt = log_format.lower() if log_format else configured_format(settings.log_format)
    folder, ours = _metrics_folder() if workers > 1 else (None, False)
    undo = use_multiprocess(folder) if folder is not None else None
    try:
        _serve(settings, fmt, host, port, no_scheduler, sweep_seconds, access_log, workers)
    finally:
        if undo is not None:
            undo()
        if folder is not None and ours:
            shutil.rmtree(folder, ignore_errors=True)


def _serve(
    settings: Settings,
    fmt: str,
    host: str,
    port: int,
    no_scheduler: bool,
    sweep_seconds: int,
    access_log: bool,
    workers: int,
) -> None:
    import uvicorn

    from engine.api.app import create_app

    config = log_config(fmt)
    say = _sayer(fmt, config)
    engine = build_engine(settings)
    for published in engine.load([settings.workflows]):
        say(published_line(published))
    stop = None if no_scheduler else start_background_sweeper(engine, sweep_seconds)
    say(f"Qingliu on http://{host}:{port} (console: /, API docs: /docs)")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "log_config": config,
    }
    try:
        if workers == 1:
            app = create_app(
                engine,
                load_domain(settings.handlers),
                max_body_bytes=settings.max_body_bytes,
                public_base_url=settings.public_base_url,
            )
            uvicorn.run(app, **options)
        else:
            _serve_workers(workers, options)
    finally:
        if stop is not None:
            stop()
        engine.store.dispose()
