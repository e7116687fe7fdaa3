"""A PostgreSQL server and fresh schemas for the benchmarks (``engine_bench``, ``backend_bench``).

``postgres_server(url)`` yields ``url`` when one is given (``--pg-url`` or
``QINGLIU_BENCH_DATABASE``), else starts a private server with ``.ci/postgres.sh`` on its own
port with durable settings (``QINGLIU_PG_DURABLE=1``: fsync and synchronous_commit on) and
stops it (deleting its files) afterwards. ``postgres_databases(server)`` hands out new schemas
on that server, as SQLAlchemy URLs whose ``search_path`` is the schema, and drops them at the
end. ``server_settings`` reads the settings the figures depend on.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

__all__ = [
    "BACKEND_BENCH_PORT",
    "DURABILITY_SETTINGS",
    "postgres_databases",
    "postgres_server",
    "server_settings",
]

ROOT = Path(__file__).resolve().parent.parent
BACKEND_BENCH_PORT = "54339"
DURABILITY_SETTINGS = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
)


@contextmanager
def postgres_server(url: str | None, port: str = BACKEND_BENCH_PORT) -> Iterator[str]:
    """The server's SQLAlchemy URL: ``url`` itself, or a private durable server on ``port``
    (its files in ``QINGLIU_PG_DIR``, default ``/tmp/qingliu-pg-<port>``)."""
    if url:
        yield url
        return
    env = {**os.environ, "QINGLIU_PG_PORT": port, "QINGLIU_PG_DURABLE": "1"}
    script = str(ROOT / ".ci" / "postgres.sh")
    started = subprocess.run(
        [script, "start"], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        raise SystemExit(f"cannot start PostgreSQL: {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop"], env=env, check=False)


@contextmanager
def postgres_databases(server: str) -> Iterator[Callable[[str], str]]:
    """``fresh(label)``: the URL of a new, empty schema on ``server`` (dropped at the end)."""
    admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    schemas: list[str] = []

    def fresh(label: str) -> str:
        schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        query = {"options": f"-csearch_path={schema}"}
        return make_url(server).update_query_dict(query).render_as_string(hide_password=False)

    try:
        yield fresh
    finally:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def server_settings(server: str, names: tuple[str, ...] = DURABILITY_SETTINGS) -> dict[str, str]:
    """``SHOW <name>`` for each of ``names``, as the server reports them."""
    admin = create_engine(server, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            return {name: str(conn.execute(text(f"SHOW {name}")).scalar()) for name in names}
    finally:
        admin.dispose()
