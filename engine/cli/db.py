"""``qingliu db``: create, upgrade and inspect the database schema (Alembic revisions)."""

from __future__ import annotations

import click

from engine.settings import load_settings, require_home
from engine.store import migrate
from engine.store.repository import Store

__all__ = ["db"]


def _store() -> Store:
    settings = load_settings()
    require_home(settings)
    migrate.ensure_folder(settings.database_url)
    return Store(settings.database_url)


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="target revision")
def db_upgrade(revision: str) -> None:
    """Create the database or bring it to the schema this version needs. Safe to run twice and
    from several processes at once."""
    store = _store()
    try:
        before, after = migrate.upgrade(store, revision)
    finally:
        store.dispose()
    url = migrate.hidden(store.url)
    if before == after:
        click.echo(f"{url}: already at {after}")
    else:
        click.echo(f"{url}: upgraded from {before or 'an empty database'} to {after}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision; exit 1 unless it is the one this version needs."""
    store = _store()
    try:
        found = migrate.status(store)
    finally:
        store.dispose()
    click.echo(f"{found.url}: {found.describe()}")
    raise SystemExit(0 if found.up_to_date else 1)


@db.command("history")
def db_history() -> None:
    """List the schema revisions, oldest first."""
    for revision, doc in migrate.revisions():
        click.echo(f"{revision}\t{doc}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="what the revision does, in a few words")
def db_revision(message: str) -> None:
    """(Developers) write the next revision from the difference between engine/store/tables.py
    and the latest revision; review it and document why in its docstring."""
    path = migrate.new_revision(message)
    click.echo(f"wrote {path}: fill in its docstring and review the operations")
