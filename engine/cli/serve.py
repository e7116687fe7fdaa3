"""The HTTP API from the command line: ``token create|list|rotate|revoke`` and ``serve``
(whose access log never shows a token sent in a query string)."""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

import click

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
from engine.settings import build_engine, load_settings
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

# Query parameters whose values the access log never shows (compared case-insensitively).
SECRET_PARAMETERS = frozenset({"token", "access_token", "api_key"})


def _hide(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        secret = bool(eq) and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
        parts.append(f"{name}=***" if secret else part)
    return "&".join(parts)


class HideQueryTokens(logging.Filter):
    """Masks the values of ``token``, ``access_token`` and ``api_key`` in the request line of
    uvicorn's access log (``args``: client address, method, path with query, HTTP version,
    status). Such a request is refused anyway; its token must not end up in a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, query = args[2].partition("?")
            if mark:
                record.args = (*args[:2], f"{path}?{_hide(query)}", *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``HideQueryTokens`` on ``uvicorn.access`` (as a
    dict, so that every worker process installs it too)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["hide_query_tokens"] = {
        "()": f"{__name__}.{HideQueryTokens.__qualname__}"
    }
    config["loggers"]["uvicorn.access"]["filters"] = ["hide_query_tokens"]
    return config


def _serve_workers(workers: int, options: dict[str, Any]) -> None:
    """``uvicorn.run(..., workers=N)``, but with Nagle's algorithm off on the listening socket
    (accepted connections inherit it): uvicorn binds that socket itself in this mode, so asyncio
    does not turn it off, and a keep-alive client then waits ~40 ms for each response's delayed
    second segment."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    factory = "engine.api.app:app_from_settings"
    config = uvicorn.Config(factory, factory=True, workers=workers, **options)
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
def serve(
    host: str, port: int, no_scheduler: bool, sweep_seconds: int, access_log: bool, workers: int
) -> None:
    """Load the configured workflows folder and serve the HTTP API (docs at /docs).

    With --workers N, N processes serve requests on the same port (each with its own engine
    and connections); on SQLite they take turns to write (engine/store/_turn.py)."""
    import uvicorn

    from engine.api.app import create_app

    settings = load_settings()
    engine = build_engine(settings)
    for published in engine.load([settings.workflows]):
        click.echo(published_line(published), err=True)
    stop = None if no_scheduler else start_background_sweeper(engine, sweep_seconds)
    click.echo(f"Qingliu on http://{host}:{port} (console: /, API docs: /docs)", err=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "log_config": log_config(),
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
