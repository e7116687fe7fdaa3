"""Schema revisions with Alembic: upgrade a database, read its revision, refuse a mismatch.

The revisions live in ``engine/store/migrations/versions`` (shipped in the package). Every
upgrade runs in one transaction that first takes a migration lock (``BEGIN IMMEDIATE`` on
SQLite, a transaction-level advisory lock on PostgreSQL), so two processes starting on the same
new database do not both create it.

``check`` is what the application runs at start: a database at the head revision is used as is,
an empty one is created only when the caller allows it (the embedded SQLite default), anything
else is a ``ConfigError`` that names the command to run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, make_url, select
from sqlalchemy.exc import InterfaceError, OperationalError

from engine.errors import ConfigError
from engine.store.repository import Store

__all__ = [
    "SchemaStatus",
    "check",
    "ensure_folder",
    "head",
    "hidden",
    "new_revision",
    "revisions",
    "status",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant shared by every Qingliu process: the key of the PostgreSQL advisory lock.
_PG_LOCK_KEY = 0x71696E676C6975  # "qingliu"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The revision this version of Qingliu needs."""
    heads = _script().get_heads()
    if len(heads) != 1:
        raise ConfigError(f"schema revisions have {len(heads)} heads ({heads}); merge them")
    return heads[0]


def revisions() -> list[tuple[str, str]]:
    """(revision, first line of its description), oldest first."""
    listed = [(s.revision, s.doc or "") for s in _script().walk_revisions()]
    return list(reversed(listed))


@dataclass(frozen=True)
class SchemaStatus:
    url: str  # password hidden
    current: str | None  # the database's revision; None when it has none
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables

    def describe(self) -> str:
        if self.up_to_date:
            return f"{self.current} (head, up to date)"
        if self.empty:
            return f"no schema yet (head is {self.head}): run `qingliu db upgrade`"
        if self.current is None:
            return "tables without a schema revision: not created by `qingliu db upgrade`"
        if self.known:
            return f"{self.current} (behind head {self.head}): run `qingliu db upgrade`"
        return f"{self.current}: unknown to this version of Qingliu (head is {self.head})"

    @property
    def known(self) -> bool:
        """The database's revision is one of ours (possibly an older one)."""
        return self.current in {r for r, _ in revisions()}


def hidden(url: str) -> str:
    """The URL with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_folder(url: str) -> None:
    """Make the folder of a SQLite database file, so that the first use can create it (the
    file itself is created 0600 by ``engine.store._connect``). A folder made here is 0700."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        folder = Path(url[len(prefix) :]).parent
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)


def _read_status(conn: Connection, url: str) -> SchemaStatus:
    current = MigrationContext.configure(conn).get_current_revision()
    tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
    return SchemaStatus(hidden(url), current, head(), bool(tables))


def status(store: Store) -> SchemaStatus:
    with store.read() as tx:
        return _read_status(tx.conn, store.url)


def _refuse(found: SchemaStatus) -> ConfigError:
    if found.current is None:
        return ConfigError(
            f"database {found.url} has tables but no schema revision: it was not created by "
            "`qingliu db upgrade`; point database_url at a new database"
        )
    if not found.known:
        return ConfigError(
            f"database {found.url} is at schema revision {found.current}, which this version of "
            f"Qingliu does not know (it needs {found.head}): upgrade Qingliu"
        )
    return ConfigError(
        f"database {found.url} is at schema revision {found.current}, this version of Qingliu "
        f"needs {found.head}: run `qingliu db upgrade`"
    )


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the database to ``revision``; (revision before, revision after)."""
    with store.write() as tx:
        conn = tx.conn
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        before = _read_status(conn, store.url)
        if (before.current is None and before.has_tables) or (
            before.current is not None and not before.known
        ):
            raise _refuse(before)
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return before.current, after or ""


def check(store: Store, *, create: bool) -> SchemaStatus:
    """Refuse to run on a schema this code does not match; create an empty one if allowed."""
    try:
        found = status(store)
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"cannot open database {hidden(store.url)}: {reason}") from exc
    if found.up_to_date:
        return found
    if found.empty and create:
        upgrade(store)
        return status(store)
    if found.empty:
        raise ConfigError(f"database {found.url} has no Qingliu schema: run `qingliu db upgrade`")
    raise _refuse(found)


def new_revision(message: str) -> Path:
    """Write the next revision (``NNNN_slug.py``) from the difference between the tables and
    a scratch SQLite database at head. For developers working in a source checkout."""
    existing = [r for r, _ in revisions()]
    numbers = [int(r) for r in existing if re.fullmatch(r"\d{4}", r)]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            if existing:
                upgrade(store)
            with store.write() as tx:
                cfg = _config()
                cfg.attributes["connection"] = tx.conn
                script = command.revision(cfg, message, autogenerate=True, rev_id=rev_id)
        finally:
            store.dispose()
    assert script is not None
    assert not isinstance(script, list)
    path = Path(script.path)
    _tidy(path)
    return path


def _tidy(path: Path) -> None:
    """Sort imports and format the new revision with ruff, when the dev tools are installed."""
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        subprocess.run([str(ruff), "format", "--quiet", str(path)], check=False)
        fix = [str(ruff), "check", "--fix", "--unsafe-fixes", "--quiet", str(path)]
        subprocess.run(fix, check=False)
