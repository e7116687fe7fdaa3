"""The PostgreSQL half of a backup (``engine.backup``): ``pg_dump`` and ``pg_restore`` run as
programs, the staging database a dump is checked in, and the swap of schemas a restore ends
with.

The database is the one the URL names, its schema the first of the URL's ``search_path``
(``?options=-csearch_path=NAME``), else ``public``. A dump holds that schema only
(``pg_dump -Fc -n NAME``), taken in the snapshot the manifest's facts were read in
(``pg_export_snapshot``), so both describe one moment.

The connection reaches the programs through libpq's environment (``PGHOST``, ``PGPORT``,
``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``): the password is never on a command line, where
``ps`` shows it to every user of the machine, nor in a message. The programs are looked for in
``QINGLIU_PG_BIN`` when it is set (and only there), else on ``PATH``, else in Debian's
``/usr/lib/postgresql/*/bin`` (the newest first); missing, it is a ``ConfigError`` (exit 9).

Checking a dump needs a database to restore it into: a new staging database
``qingliu_staging_<hex>`` on the same server (the role needs ``CREATEDB``), dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from engine.errors import ConfigError
from engine.store.migrate import hidden

__all__ = [
    "drop_schema",
    "dump",
    "exported_snapshot",
    "rename_schema",
    "restore",
    "schema_exists",
    "schema_in",
    "schema_of",
    "staging_database",
    "swap_schemas",
    "tool",
    "with_schema",
]

_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")
_DEBIAN = "/usr/lib/postgresql/*/bin"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _version(folder: str) -> tuple[int, ...]:
    number = Path(folder).parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def tool(name: str) -> str:
    """The path of the PostgreSQL program ``name`` (``pg_dump``, ``pg_restore``)."""
    pinned = os.environ.get("QINGLIU_PG_BIN")
    if pinned:
        found = shutil.which(name, path=pinned)
        where = f"QINGLIU_PG_BIN={pinned}"
    else:
        found = shutil.which(name)
        for folder in sorted(glob.glob(_DEBIAN), key=_version, reverse=True):
            found = found or shutil.which(name, path=folder)
        where = f"PATH or {_DEBIAN}"
    if not found:
        raise ConfigError(
            f"{name} is not installed (looked in {where}): a PostgreSQL backup needs the "
            "client programs (Debian: apt-get install postgresql-client)"
        )
    return found


def schema_of(url: str) -> str:
    """The schema the URL's ``search_path`` names first, else ``public``."""
    options = str(make_url(url).query.get("options", ""))
    match = _SEARCH_PATH.search(options)
    name = match.group(1).strip("\"'") if match else "public"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"schema name {name!r} in the database URL is not a plain name")
    return name


def with_schema(url: str, schema: str, database: str | None = None) -> str:
    """``url`` with its ``search_path`` set to ``schema`` (and on ``database`` if given)."""
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def _environment(url: str) -> dict[str, str]:
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def _run(url: str, program: str, args: Sequence[str]) -> None:
    done = subprocess.run(
        [tool(program), *args], env=_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = "; ".join(lines[:3]) or f"exit status {done.returncode}"
        raise ConfigError(f"{program} failed on {hidden(url)}: {reason}")


def dump(url: str, schema: str, target: Path, snapshot: str | None = None) -> None:
    """The schema ``schema`` of the URL's database in ``pg_dump``'s custom format."""
    args = ["--format=custom", f"--schema={schema}", f"--file={target}", "--no-password"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    _run(url, "pg_dump", args)


def restore(url: str, source: Path, *, clean: bool = False) -> None:
    """``source`` restored into the URL's database, stopping at the first error; ``clean``
    drops each object first (a staging database: its ``public`` schema already exists)."""
    database = make_url(url).database or ""
    args = ["--no-owner", "--no-privileges", "--exit-on-error", "--no-password"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run(url, "pg_restore", [*args, f"--dbname={database}", str(source)])


@contextmanager
def _autocommit(url: str) -> Iterator[Connection]:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def exported_snapshot(conn: Connection) -> Iterator[str]:
    """The id of the snapshot ``conn``'s (repeatable read) transaction sees, for ``pg_dump
    --snapshot``: valid while the transaction stays open."""
    yield str(conn.execute(select(text("pg_export_snapshot()"))).scalar_one())


@contextmanager
def staging_database(url: str) -> Iterator[str]:
    """A new empty database beside the URL's: its name; dropped (with any connection left on
    it) when the block ends."""
    name = f"qingliu_staging_{uuid.uuid4().hex[:12]}"
    try:
        with _autocommit(url) as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise ConfigError(
            f"cannot create a staging database on {hidden(url)} to check the backup in (the "
            f"role needs CREATEDB): {reason}"
        ) from exc
    try:
        yield name
    finally:
        with _autocommit(url) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def schema_exists(url: str, schema: str) -> bool:
    with _autocommit(url) as conn:
        return schema_in(conn, schema)


def rename_schema(url: str, old: str, new: str) -> None:
    with _autocommit(url) as conn:
        conn.execute(text(f'ALTER SCHEMA "{old}" RENAME TO "{new}"'))


def swap_schemas(url: str, staged: str, live: str, aside: str | None) -> None:
    """In one transaction: the live schema renamed to ``aside`` (or dropped when ``aside`` is
    None: it held nothing), then ``staged`` renamed to ``live``. Other sessions see the old
    schema or the new one, never neither."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            if schema_in(conn, live):
                if aside is None:
                    conn.execute(text(f'DROP SCHEMA "{live}" CASCADE'))
                else:
                    conn.execute(text(f'ALTER SCHEMA "{live}" RENAME TO "{aside}"'))
            conn.execute(text(f'ALTER SCHEMA "{staged}" RENAME TO "{live}"'))
    finally:
        engine.dispose()


def drop_schema(url: str, schema: str) -> None:
    with _autocommit(url) as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def schema_in(conn: Connection, schema: str) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
    ).first()
    return found is not None
