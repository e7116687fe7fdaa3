"""``qingliu restore SRC``: a backup (``engine.backup``) back into the configured database.

Nothing live changes before the backup has proved itself: its manifest (key fingerprint,
signature, every file's digest, schema revision) is checked, then its database is restored
into a staging copy and audited there with the installation's key. Only then are the blobs
copied into the blob folder (content-addressed: a file already there with the right bytes is
kept; so the database never names a file that is not there), and the staging copy takes the
live database's place at once:

- SQLite: the staging copy is a file beside the live one, renamed over it (``os.replace``);
- PostgreSQL: the staging database's schema is renamed and copied into the live database
  under a staging name, then, in one transaction, the live schema is moved aside and the
  staged one renamed to the live schema's name.

A live database that holds anything (``engine.store.backup_db.holds_data``) is refused
(``Conflict``, exit 6) unless ``replace``: then it is kept aside, renamed with the time
(``qingliu.db.replaced-20261207t013000z_1a2b3c``, schema
``NAME_replaced_20261207t013000z_1a2b3c``: the time and six random digits), and the result
says where. An empty one is simply replaced. Stop ``qingliu serve`` and the scheduler
first: a restore under a running server is not supported.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.backup import BLOBS, BackupRefused, read_manifest, staged
from engine.backup import file_digest as digest_of_file
from engine.errors import ConfigError, Conflict
from engine.keys import KeyRing
from engine.store import backup_pg
from engine.store.backup_db import SIDE_FILES, facts, holds_data, sqlite_path
from engine.store.migrate import ensure_folder, hidden
from engine.store.repository import Store

__all__ = ["Restored", "restore"]


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    aside: str | None  # where the database it replaced was kept, if it held anything
    blobs_copied: int


def _occupied(url: str) -> bool:
    if url.startswith("sqlite") and not sqlite_path(url).exists():
        return False
    store = Store(url)
    try:
        return holds_data(store)
    finally:
        store.dispose()


def _refuse_occupied(url: str, replace: bool) -> bool:
    occupied = _occupied(url)
    if occupied and not replace:
        raise Conflict(
            f"database {hidden(url)} is not empty: restore over it with --replace (it is then "
            "kept aside, renamed with the time), or point QINGLIU_DATABASE_URL at a new one"
        )
    return occupied


def _still_empty(url: str) -> None:
    """The live database found empty before the (long) check is still empty as it is about to
    be replaced without being kept aside: else something wrote to it meanwhile."""
    if _occupied(url):
        raise Conflict(
            f"database {hidden(url)} was written to while the backup was checked: stop the "
            "server and the scheduler, then restore again (with --replace to keep it aside)"
        )


def copy_blobs(folder: Path, root: Path) -> int:
    """The backup's blob files into the blob folder ``root``; how many were written."""
    source = folder / BLOBS
    written = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        target = root / path.relative_to(source)
        if target.is_file() and digest_of_file(target) == digest_of_file(path):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(path, temp)
            os.chmod(temp, 0o444)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        written += 1
    return written


def restore(
    folder: Path, url: str, keys: KeyRing, blobs: Path, now: datetime, *, replace: bool = False
) -> Restored:
    """Restore the backup ``folder`` into the database of ``url`` and the blob folder
    ``blobs``, as the module docstring says."""
    manifest = read_manifest(folder)
    # the time, and a few random digits: two restores in one second keep both asides
    suffix = f"{now.strftime('%Y%m%dT%H%M%SZ').lower()}_{uuid.uuid4().hex[:6]}"
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest.get("backend") != backend:
        raise ConfigError(
            f"backup {folder} is of a {manifest.get('backend')} database and "
            f"{hidden(url)} is {backend}: a backup restores into the backend it was taken on"
        )
    if backend == "sqlite":
        aside, copied = _restore_sqlite(folder, url, keys, blobs, suffix, replace)
    else:
        aside, copied = _restore_pg(folder, url, keys, blobs, suffix, replace)
    return Restored(manifest, aside, copied)


def _restore_sqlite(
    folder: Path, url: str, keys: KeyRing, blobs: Path, suffix: str, replace: bool
) -> tuple[str | None, int]:
    target = sqlite_path(url)
    ensure_folder(url)
    occupied = _refuse_occupied(url, replace)
    with staged(folder, keys, url, beside=target.parent) as store:
        copy = sqlite_path(store.url)
        store.dispose()
        with closing(sqlite3.connect(copy)) as conn:  # no -wal left beside the copy
            conn.execute("PRAGMA journal_mode=DELETE")
        copied = copy_blobs(folder, blobs)
        if not occupied:
            _still_empty(url)
        aside = target.with_name(f"{target.name}.replaced-{suffix}") if occupied else None
        for side in ("", *SIDE_FILES):  # a -wal of the old database must not meet the new one
            old = Path(f"{target}{side}")
            if aside is not None and old.exists() and side != "-turn":
                os.replace(old, f"{aside}{side}")
            else:
                old.unlink(missing_ok=True)
        os.replace(copy, target)
    return (str(aside) if aside else None), copied


def _restore_pg(
    folder: Path, url: str, keys: KeyRing, blobs: Path, suffix: str, replace: bool
) -> tuple[str | None, int]:
    live = backup_pg.schema_of(url)
    occupied = _refuse_occupied(url, replace)
    staged_name = f"{live[:40]}_restore_{uuid.uuid4().hex[:8]}"
    with staged(folder, keys, url) as store, tempfile.TemporaryDirectory() as where:
        store.dispose()
        schema = str(read_manifest(folder).get("schema") or "public")
        backup_pg.rename_schema(store.url, schema, staged_name)
        moved = Path(where) / "staged.pgdump"
        backup_pg.dump(store.url, staged_name, moved)
        backup_pg.restore(url, moved)
    try:
        _same_as_manifest(folder, backup_pg.with_schema(url, staged_name))
        copied = copy_blobs(folder, blobs)
        if not occupied:
            _still_empty(url)
        aside = f"{live[:30]}_replaced_{suffix}" if occupied else None  # ≤ 63 characters
        backup_pg.swap_schemas(url, staged_name, live, aside)
    except BaseException:
        backup_pg.drop_schema(url, staged_name)
        raise
    return (f"schema {aside} (in the same database)" if aside else None), copied


def _same_as_manifest(folder: Path, url: str) -> None:
    """The copy moved into the live database still has the manifest's head and counts."""
    manifest = read_manifest(folder)
    store = Store(url)
    try:
        with store.read() as tx:
            found = facts(tx)
    finally:
        store.dispose()
    head = manifest["history_head"]
    if (found.head_gseq, found.head_hash) != (head["gseq"], head["hash"]) or any(
        manifest["counts"].get(k) != v for k, v in found.counts.items()
    ):
        raise BackupRefused(folder, ["the copy moved into the live database differs from it"])
