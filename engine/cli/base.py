"""What every ``qingliu`` command shares: the group that turns errors of the tree into their
exit codes, ``--as/--actor/--jurisdiction``, JSON in and out, the configured engine."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import QingliuError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import build_engine, load_settings
from engine.store.faults import Unavailable, unavailable

__all__ = [
    "CommandFailed",
    "QingliuGroup",
    "actor_options",
    "configured_engine",
    "echo_json",
    "json_arg",
]

F = TypeVar("F", bound=Callable[..., Any])


class CommandFailed(click.ClickException):
    """An error of the tree, as click shows it: ``error: <message>`` on stderr, and the
    error class's own exit code."""

    def __init__(self, error: QingliuError) -> None:
        super().__init__(str(error))
        self.error = error

    @property  # click declares one exit code per class; ours is the error's
    def exit_code(self) -> int:  # type: ignore[override]
        return self.error.exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class QingliuGroup(click.Group):
    """A command group whose commands' ``QingliuError`` becomes ``CommandFailed``: the one
    place where errors become exit codes. A database that cannot take requests now
    (``engine.store.faults``) is ``Unavailable``; any other exception is a bug and keeps its
    traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QingliuError as exc:
            raise CommandFailed(exc) from exc
        except SQLAlchemyError as exc:
            if not unavailable(exc):
                raise
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            fault = Unavailable(f"the database cannot take requests now ({reason}): try again")
            raise CommandFailed(fault) from exc


def configured_engine() -> Engine:
    """The engine on the configured database, closed when the command ends."""
    engine = build_engine(load_settings())
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.store.dispose)
    return engine


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def json_arg(text: str | None, what: str) -> dict[str, Any]:
    """A JSON object given on the command line (``--data``, ``--payload``)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=what) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=what)
    return value


def actor_options(fn: F) -> F:
    """``--as ROLE --actor NAME --jurisdiction CODE``: who the command acts as."""

    @click.option("--as", "role", default="admin", show_default=True, help="role to act as")
    @click.option("--actor", "name", default=None, help="name recorded in the history")
    @click.option("--jurisdiction", default=None, help="jurisdiction code of the actor")
    @wraps(fn)
    def wrapper(
        *args: Any, role: str, name: str | None, jurisdiction: str | None, **kw: Any
    ) -> Any:
        actor = Actor(name or f"cli:{getpass.getuser()}", role, jurisdiction)
        return fn(*args, actor=actor, **kw)

    return wrapper  # type: ignore[return-value]
