"""The ``qingliu`` command: thin. It parses, calls the engine facade, prints, and turns errors
into exit codes in one place (``QingliuGroup``): each error class of ``engine.errors`` carries
its ``exit_code``; 2 is a usage error (click's own, or a refused argument)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

import click

from engine.api import commands as api_commands
from engine.catalog import Catalog
from engine.db_cli import db
from engine.domain import load_domain
from engine.errors import QingliuError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import build_engine, load_settings
from engine.views import event_json

__all__ = ["CommandFailed", "QingliuGroup", "cli", "main"]

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
    """A command group whose commands' ``QingliuError`` becomes ``CommandFailed``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QingliuError as exc:
            raise CommandFailed(exc) from exc


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _json_arg(text: str | None, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=what) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=what)
    return value


def _engine() -> Engine:
    return build_engine(load_settings())


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


@click.group(cls=QingliuGroup)
@click.version_option(package_name="qingliu")
def cli() -> None:
    """Qingliu (清流): workflows for supervising sewage outfalls into rivers."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: Iterable[str]) -> None:
    """Check definition files or folders; one `path:line:col: message` line per problem."""
    catalog = Catalog(load_domain(load_settings().handlers).registry)
    definitions, problems = catalog.check_files(paths)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(definitions)} definition(s)", err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def load(paths: Iterable[str]) -> None:
    """Publish definitions (default: the configured workflows folder); changed files get a new
    version, unchanged ones keep theirs. All or nothing."""
    settings = load_settings()
    for published in build_engine(settings).load(paths or [settings.workflows]):
        status = "new version" if published.created else "unchanged"
        click.echo(f"{published.name} v{published.version} ({status})")


@cli.command("workflows")
def list_workflows() -> None:
    """List published workflows (latest versions)."""
    for row in _engine().definitions():
        click.echo(f"{row.name}\tv{row.version}\t{row.title}")


@cli.group()
def case() -> None:
    """Create, advance and read cases."""


@case.command("create")
@click.argument("workflow")
@click.option("--data", default="{}", help="case data as a JSON object")
@click.option("--subject", default=None, help="what the case is about (business key)")
@actor_options
def case_create(workflow: str, data: str, subject: str | None, actor: Actor) -> None:
    view = _engine().create_case(workflow, _json_arg(data, "--data"), actor, subject=subject)
    _print_json(view.to_json())


@case.command("fire")
@click.argument("case_id", type=int)
@click.argument("trigger")
@click.option("--payload", default="{}", help="payload as a JSON object")
@click.option("--if-version", type=int, default=None, help="refuse unless the case is at it")
@actor_options
def case_fire(
    case_id: int, trigger: str, payload: str, if_version: int | None, actor: Actor
) -> None:
    engine = _engine()
    engine.fire(case_id, trigger, actor, _json_arg(payload, "--payload"), if_version)
    _print_json(engine.get_case(case_id, actor).to_json())


@case.command("show")
@click.argument("case_id", type=int)
@actor_options
def case_show(case_id: int, actor: Actor) -> None:
    _print_json(_engine().get_case(case_id, actor).to_json())


@case.command("list")
@click.option("--workflow", default=None)
@click.option("--state", default=None)
@click.option("--subject", default=None)
@click.option("--limit", type=int, default=100, show_default=True)
@actor_options
def case_list(
    workflow: str | None, state: str | None, subject: str | None, limit: int, actor: Actor
) -> None:
    views = _engine().list_cases(
        actor, workflow=workflow, state=state, subject=subject, limit=limit
    )
    for v in views:
        click.echo(f"{v.id}\t{v.case.workflow}\t{v.state}\t{v.state_title}\t{v.case.subject or ''}")


@case.command("history")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print the events as JSON")
@actor_options
def case_history(case_id: int, as_json: bool, actor: Actor) -> None:
    events = _engine().history(case_id, actor)
    if as_json:
        _print_json([event_json(e) for e in events])
        return
    for e in events:
        move = f"{e.from_state or '-'} -> {e.to_state or '-'}"
        click.echo(
            f"{e.seq:>3} {e.at.isoformat(timespec='seconds')} {e.kind:<10} "
            f"{e.trigger or '':<20} {move:<32} {e.actor} ({e.role})"
        )


@cli.command()
@click.argument("case_ids", nargs=-1, type=int)
def replay(case_ids: tuple[int, ...]) -> None:
    """Replay cases (default: all) from their history and compare with their stored state."""
    engine = _engine()
    with engine.store.read() as tx:
        ids = list(case_ids) or tx.case_ids()
    mismatches = 0
    for case_id in ids:
        row, result = engine.replay(case_id)
        if not result.matches(row):
            mismatches += 1
            why = "; ".join(result.problems) or f"replayed {result.state} v{result.version}"
            click.echo(f"case {case_id}: MISMATCH: {why} (stored {row.state} v{row.version})")
    click.echo(f"replayed {len(ids)} case(s), {mismatches} mismatch(es)")
    sys.exit(1 if mismatches else 0)


@cli.group()
def audit() -> None:
    """Evidence-grade history checks."""


@audit.command("verify")
def audit_verify() -> None:
    """Check every case's hash chain; name the first broken row of each."""
    broken = _engine().verify_audit()
    for line in broken:
        click.echo(line)
    click.echo("audit: " + ("FAILED" if broken else "every chain verified"))
    sys.exit(1 if broken else 0)


cli.add_command(api_commands.token)
cli.add_command(api_commands.serve)


def _add_time_commands() -> None:
    from engine.cli_time import register  # it uses this module's helpers

    register(cli, case)


_add_time_commands()


cli.add_command(db)


def _add_domain_commands() -> None:
    """The domain's commands (ledger, reports, demo ...), under their own names; engine
    commands cannot be replaced. A domain that does not load adds none: the engine's commands
    then report its ConfigError when they need it."""
    try:
        domain = load_domain(load_settings().handlers)
    except QingliuError:
        return
    for command in domain.cli_commands():
        if command.name not in cli.commands:
            cli.add_command(command)


def main() -> None:
    try:
        _add_domain_commands()
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except QingliuError as exc:  # raised before a command ran (e.g. the domain's commands)
        CommandFailed(exc).show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
