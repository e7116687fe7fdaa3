"""The ``qingliu`` command: thin. Each command parses, calls the engine facade and prints;
errors become exit codes in one place (``base.QingliuGroup``: each error class of
``engine.errors`` carries its ``exit_code``; 2 is a usage error).

    base.py     the group, --as/--actor/--jurisdiction, JSON in and out, the engine
    cases.py    validate, load, workflows, case create|fire|show|list|history, replay, audit
    timers.py   tick, scheduler, calendar check|recompute, case timers
    clock.py    time [set DATE|clear]: the installation's logical clock
    simulate.py simulate WORKFLOW SCENARIO: a scenario in a throw-away database
    diagram.py  diagram NAME [--case ID]: state diagrams (engine/diagram)
    db.py       db upgrade|current|history|revision
    serve.py    token create|list|revoke, serve
    users.py    user create|list|passwd|disable|enable: console users
    handlers.py handlers [NAME] [--json|--markdown]: the catalogue of guards and actions
    admin.py    migrate, case correct|cancel|reopen|reassign (admin)
    init.py     init DIR: a new home folder (engine/home.py)

The domain's commands (``engine.domain.Domain.cli_commands``: ledger, reports, demo ...) are
added by ``main`` under their own names; an engine command of the same name wins.
"""

from __future__ import annotations

import sys

import click

from engine import home
from engine.cli import admin, cases, clock, db, diagram, init, serve, simulate, timers, users
from engine.cli import backup as backups
from engine.cli.base import CommandFailed, QingliuGroup, actor_options
from engine.cli.handlers import handlers_command
from engine.domain import load_domain
from engine.errors import QingliuError
from engine.settings import load_settings

__all__ = ["CommandFailed", "QingliuGroup", "actor_options", "cli", "main"]


def _use_home(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        home.use_home_option(value)


@click.group(cls=QingliuGroup)
@click.version_option(package_name="qingliu")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_use_home,
    help="the home folder (config/, workflows/, var/); else QINGLIU_HOME, QINGLIU_CONFIG's "
    "parent, or the working directory",
)
def cli() -> None:
    """Qingliu (清流): workflows for supervising sewage outfalls into rivers."""


for _command in (
    cases.validate,
    cases.load,
    cases.list_workflows,
    cases.case,
    cases.replay,
    cases.audit,
    admin.migrate,
    simulate.simulate,
    diagram.diagram,
    timers.tick,
    timers.scheduler,
    timers.calendar_group,
    clock.time_group,
    db.db,
    serve.token,
    users.user,
    serve.serve,
    handlers_command,
    init.init,
    backups.backup,
    backups.restore,
):
    cli.add_command(_command)
cases.case.add_command(timers.case_timers)
for _command in (admin.case_correct, admin.case_cancel, admin.case_reopen, admin.case_reassign):
    cases.case.add_command(_command)


def _add_domain_commands() -> None:
    """The domain's commands. A domain that does not load adds none: the engine's commands
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
        given = home.home_from_argv(sys.argv[1:])
        if given is not None:
            home.use_home_option(given)
        if home.command_from_argv(sys.argv[1:]) != "init":  # init makes the home it names
            home.locate()  # a place named (--home, QINGLIU_HOME) that holds no home: exit 9
        _add_domain_commands()
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except QingliuError as exc:  # raised outside a command (reading the settings)
        CommandFailed(exc).show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
