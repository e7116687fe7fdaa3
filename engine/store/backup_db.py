"""The database half of a backup (``engine.backup``), on every backend: what a database holds
(its schema revision, the head of the history chain, its counts, whether it holds anything at
all) and, on SQLite, the copy itself.

SQLite is copied with the online backup API (``sqlite3.Connection.backup``, all pages in one
step): the copy is one consistent moment of the database even while ``qingliu serve`` writes
to it (WAL: the copy reads a snapshot, writers go on). The copy is then switched to the
rollback journal so that the backup is one self-contained file. PostgreSQL is in
``engine.store.backup_pg``.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, table

from engine.errors import ConfigError
from engine.store.repository import Store, Tx
from engine.store.tables import attachments, cases, events, subject_events, subjects

__all__ = [
    "SIDE_FILES",
    "Facts",
    "facts",
    "holds_data",
    "sqlite_copy",
    "sqlite_facts",
    "sqlite_path",
]

# Tables a new database already has a row in (the schema revision, the chain's empty head).
_BOOKKEEPING = {"alembic_version", "history_head"}
# The files SQLite and the store keep beside a database file (engine/store/_turn.py: -turn).
SIDE_FILES = ("-wal", "-shm", "-turn")


@dataclass(frozen=True)
class Facts:
    """What the manifest records of a database, read in one transaction."""

    revision: str | None
    head_gseq: int
    head_hash: str | None
    counts: dict[str, int]


def _count(tx: Tx, table_: object) -> int:
    return int(tx.conn.execute(select(func.count()).select_from(table_)).scalar_one())  # type: ignore[arg-type]


def facts(tx: Tx) -> Facts:
    """The revision, the chain's head and the counts of the database ``tx`` reads."""
    head = tx.history_head()
    counts = {
        "cases": _count(tx, cases),
        "events": _count(tx, events),
        "subjects": _count(tx, subjects),
        "subject_events": _count(tx, subject_events),
        "attachments": _count(tx, attachments),
    }
    return Facts(
        revision=MigrationContext.configure(tx.conn).get_current_revision(),
        head_gseq=head.gseq if head else 0,
        head_hash=head.hash if head else None,
        counts=counts,
    )


def holds_data(store: Store) -> bool:
    """True when the database holds anything a restore over it would lose: a row in any table
    but the schema's bookkeeping, or a history head past zero. A missing database, schema or
    table holds nothing."""
    with store.read() as tx:
        names = set(inspect(tx.conn).get_table_names())
        for name in sorted(names - _BOOKKEEPING):
            if tx.conn.execute(select(func.count()).select_from(table(name))).scalar_one():
                return True
        if "history_head" in names:
            head = tx.history_head()
            return head is not None and head.gseq > 0
    return False


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL (``sqlite:///var/qingliu.db``)."""
    path = url.partition(":///")[2].partition("?")[0]
    if not path or ":memory:" in path or path.startswith("file:"):
        raise ConfigError(f"{url} is not a SQLite database file: there is nothing to back up")
    return Path(path)


def sqlite_copy(source: Path, target: Path) -> None:
    """``source`` copied to the new file ``target`` (0600) by the online backup API, then
    switched to the rollback journal (one file, no ``-wal`` beside it)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)  # pages=-1: every page in one step, one snapshot of the source
        dst.execute("PRAGMA journal_mode=DELETE")


def sqlite_facts(path: Path) -> Facts:
    """The facts of the SQLite file ``path``, which is left in the rollback journal mode
    (opening it through the store switches it to WAL)."""
    store = Store(f"sqlite:///{path}")
    try:
        with store.read() as tx:
            found = facts(tx)
    finally:
        store.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    for side in SIDE_FILES:  # the store's write-turn lock file, an emptied WAL
        Path(f"{path}{side}").unlink(missing_ok=True)
    return found
