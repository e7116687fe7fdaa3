"""The HTTP API from the command line: ``token create|list|revoke`` and ``serve``."""

from __future__ import annotations

from typing import Any

import click

from engine.api.tokens import create_token, list_tokens, revoke_token
from engine.cli.base import configured_engine
from engine.domain import load_domain
from engine.settings import build_engine, load_settings
from engine.time.scheduler import start_background_sweeper

__all__ = ["serve", "token"]


@click.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command("create")
@click.option("--name", required=True, help="who holds it; recorded in the history")
@click.option("--role", required=True, help="admin, or a role of a workflow or roles.yaml")
@click.option("--jurisdiction", default=None, help="code from reference/jurisdictions.yaml")
def token_create(name: str, role: str, jurisdiction: str | None) -> None:
    """Create a token and print it, alone, on stdout. It is not shown again."""
    _, secret = create_token(configured_engine(), name, role, jurisdiction)
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """Tokens: id, name, role, jurisdiction, created, revoked."""
    for t in list_tokens(configured_engine()):
        revoked = f"revoked {t.revoked_at.isoformat(timespec='seconds')}" if t.revoked_at else ""
        click.echo(
            f"{t.id}\t{t.name}\t{t.role}\t{t.jurisdiction or '-'}\t"
            f"{t.created_at.isoformat(timespec='seconds')}\t{revoked or 'active'}"
        )


@token.command("revoke")
@click.argument("name_or_id")
def token_revoke(name_or_id: str) -> None:
    """Revoke a token by name (or id); requests with it get 401 from now on."""
    revoked = revoke_token(configured_engine(), name_or_id)
    click.echo(f"revoked token {revoked.id} ({revoked.name})", err=True)


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
        status = "new version" if published.created else "unchanged"
        click.echo(f"{published.name} v{published.version} ({status})", err=True)
    stop = None if no_scheduler else start_background_sweeper(engine, sweep_seconds)
    click.echo(f"Qingliu API on http://{host}:{port} (docs: /docs)", err=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
    }
    try:
        if workers == 1:
            uvicorn.run(create_app(engine, load_domain(settings.handlers)), **options)
        else:
            _serve_workers(workers, options)
    finally:
        if stop is not None:
            stop()
        engine.store.dispose()
