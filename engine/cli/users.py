"""Console users from the command line: ``user create|list|passwd|disable|enable``.

The password is read from a prompt (twice, not echoed) or, for scripts, from the environment
variable named by ``--password-env``; it is never an argument, which other users of the
machine could read in the process list.
"""

from __future__ import annotations

import os
from datetime import datetime

import click

from engine.cli.base import configured_engine
from engine.console.accounts import Accounts
from engine.errors import TokenError

__all__ = ["user"]


def _password(env: str | None) -> str:
    if env:
        value = os.environ.get(env)
        if not value:
            raise TokenError(f"--password-env {env}: the variable is not set or empty")
        return value
    entered: str = click.prompt("password", hide_input=True, confirmation_prompt=True)
    return entered


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


_PASSWORD_ENV = click.option(
    "--password-env", default=None, metavar="VAR", help="read the password from this variable"
)


@click.group()
def user() -> None:
    """Console users (people who sign in at /login): create, list, passwd, disable, enable."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, or a role of a workflow or roles.yaml")
@click.option("--jurisdiction", default=None, help="required for county and party roles")
@click.option("--name", "display_name", default=None, help="the name shown, e.g. 王科员")
@_PASSWORD_ENV
def user_create(
    username: str,
    role: str,
    jurisdiction: str | None,
    display_name: str | None,
    password_env: str | None,
) -> None:
    """Create a user who signs in with USERNAME and a password (10+ characters, letters and
    digits)."""
    accounts = Accounts(configured_engine())
    made = accounts.create_user(username, _password(password_env), role, jurisdiction, display_name)
    click.echo(f"{made.id}\t{made.username}\t{made.role}\t{made.jurisdiction or '-'}")


@user.command("list")
def user_list() -> None:
    """Users: id, user name, name, role, jurisdiction, created, and active, locked or
    disabled."""
    accounts = Accounts(configured_engine())
    for u in accounts.users():
        if u.disabled_at is not None:
            status = f"disabled {_when(u.disabled_at)}"
        elif accounts.locked(u):
            status = f"locked until {_when(u.locked_until)}"
        else:
            status = "active"
        click.echo(
            f"{u.id}\t{u.username}\t{u.display_name}\t{u.role}\t{u.jurisdiction or '-'}\t"
            f"{_when(u.created_at)}\t{status}"
        )


@user.command("passwd")
@click.argument("username")
@_PASSWORD_ENV
def user_passwd(username: str, password_env: str | None) -> None:
    """Set a new password (ends the user's sessions and any lock-out)."""
    Accounts(configured_engine()).set_password(username, _password(password_env))


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Stop the user from signing in (ends the user's sessions)."""
    Accounts(configured_engine()).disable(username)


@user.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Let a disabled or locked-out user sign in again."""
    Accounts(configured_engine()).enable(username)
