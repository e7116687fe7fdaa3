"""``qingliu backup DEST``, ``backup --verify SRC``, ``qingliu restore SRC [--replace]``,
``restore --check SRC`` (engine/backup.py, engine/restore.py, docs/backup.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from engine.backup import check, take
from engine.cli.base import configured_engine
from engine.clock import SystemClock
from engine.errors import ConfigError
from engine.keys import KeyRing
from engine.restore import restore as restore_backup
from engine.settings import blobs_of, load_settings, require_home

__all__ = ["backup", "restore"]

_FOLDER = click.Path(file_okay=False, path_type=Path)


def _summary(manifest: dict[str, Any]) -> str:
    counts = manifest.get("counts") or {}
    head = manifest.get("history_head") or {}
    return (
        f"{counts.get('cases', 0)} case(s), {counts.get('events', 0)} event(s), "
        f"{counts.get('subjects', 0)} subject(s), {counts.get('blobs', 0)} blob(s); "
        f"history head {head.get('gseq')}; schema {manifest.get('schema_revision')}; "
        f"taken {manifest.get('taken_at')}; key fingerprint {manifest['key']['fingerprint']}"
    )


@contextmanager
def _files(folder: Path) -> Iterator[None]:
    """A file that cannot be written or read (no space, no permission, a path through a file)
    is the operator's to fix: exit 9 naming it, not a traceback."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or folder
        raise ConfigError(f"backup {folder}: cannot use {where}: {exc.strerror or exc}") from exc


def _check(folder: Path) -> None:
    settings = load_settings()
    require_home(settings)  # the keys are the home's: no home, nothing to check against
    manifest = check(folder, KeyRing(settings.keys_dir), settings.database_url)
    click.echo(f"backup {folder}: verified ({manifest.get('backend')}): {_summary(manifest)}")


@click.command("backup")
@click.argument("dest", type=_FOLDER)
@click.option(
    "--verify",
    "verify_only",
    is_flag=True,
    help="check the backup DEST instead (digests, key, history audit); the live database is "
    "not touched",
)
@click.option("--no-check", is_flag=True, help="do not check the new backup before keeping it")
def backup(dest: Path, verify_only: bool, no_check: bool) -> None:
    """Back the database and the evidence files up into the new folder DEST (with a signed
    manifest); the keys are not in it: back var/keys up separately, offline."""
    with _files(dest):
        _backup(dest, verify_only, no_check)


def _backup(dest: Path, verify_only: bool, no_check: bool) -> None:
    if verify_only:
        _check(dest)
        return
    settings = load_settings()
    engine = configured_engine()
    manifest = take(
        engine.store,
        engine.keys,
        blobs_of(settings),
        dest,
        engine.clock.now(),
        verify=not no_check,
    )
    verdict = "written" if no_check else "written and verified"
    click.echo(f"backup {dest}: {verdict}: {_summary(manifest)}")


@click.command("restore")
@click.argument("src", type=_FOLDER)
@click.option(
    "--check", "check_only", is_flag=True, help="only check the backup SRC (as backup --verify)"
)
@click.option(
    "--replace",
    is_flag=True,
    help="restore over a database that holds data (kept aside, renamed with the time)",
)
def restore(src: Path, check_only: bool, replace: bool) -> None:
    """Restore the backup SRC into the configured database and blob folder, after it verified
    on a staging copy. Stop the server and the scheduler first."""
    with _files(src):
        _restore(src, check_only, replace)


def _restore(src: Path, check_only: bool, replace: bool) -> None:
    if check_only:
        _check(src)
        return
    settings = load_settings()
    require_home(settings)  # never into a database beside whatever folder this is run in
    done = restore_backup(
        src,
        settings.database_url,
        KeyRing(settings.keys_dir),
        blobs_of(settings),
        SystemClock().now(),
        replace=replace,
    )
    click.echo(f"restored {src}: {_summary(done.manifest)}")
    click.echo(f"blobs: {done.blobs_copied} file(s) written to {blobs_of(settings)}")
    if done.aside:
        click.echo(f"the database it replaced is kept aside as {done.aside}")
