"""`qingliu backup` and `qingliu restore` on PostgreSQL (pg_dump -Fc, pg_restore into a
staging database, the schema swapped in): a backup restores into another schema where
`audit verify` and `replay` pass and the photo is back; a damaged dump is refused with the
live schema unchanged; --replace keeps the old schema aside; without pg_dump the backup is
refused (exit 9) and leaves no folder. Each test works in schemas of its own on the server of
``QINGLIU_TEST_DATABASE`` (tests/backends.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engine.backup import MANIFEST
from tests import backends
from tests.backupkit import CLERK, PHOTO, Install, fill, installation, resign

pytestmark = pytest.mark.postgres


def _server() -> str:
    server = backends.postgres_server()
    assert server is not None
    return server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Install]:
    with backends.fresh_schema(_server()) as url:
        install = installation(tmp_path / "live", url)
        with install.engine() as engine:
            fill(engine)
        yield install


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Install]:
    with backends.fresh_schema(_server(), upgraded=False) as url:
        yield installation(tmp_path / "new", url)


def _schemas(pattern: str) -> list[str]:
    engine = create_engine(_server(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p ORDER BY 1")
            return [str(n) for (n,) in conn.execute(query, {"p": pattern})]
    finally:
        engine.dispose()


def _drop(schema: str) -> None:
    engine = create_engine(_server(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def _staging_databases() -> list[str]:
    engine = create_engine(_server(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = text("SELECT datname FROM pg_database WHERE datname LIKE 'qingliu_staging_%'")
            return [str(n) for (n,) in conn.execute(query)]
    finally:
        engine.dispose()


def test_a_backup_restores_into_another_schema_that_verifies_and_replays(
    live: Install, fresh: Install, tmp_path: Path
) -> None:
    staging_before = _staging_databases()
    out = live.run("backup", str(tmp_path / "b"))
    assert "written and verified: 4 case(s), 10 event(s)" in out
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["backend"] == "postgresql"
    assert "database.pgdump" in manifest["files"]
    password = "qingliu"  # the shared test server's: never in the manifest
    assert f":{password}@" not in json.dumps(manifest)

    out = fresh.run("restore", str(tmp_path / "b"))
    assert "blobs: 3 file(s) written" in out
    assert "every chain verified" in fresh.run("audit", "verify")
    assert "replayed 4 case(s), 0 mismatch(es)" in fresh.run("replay")
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert (fresh.blobs / digest[:2] / digest).read_bytes() == PHOTO
    with fresh.engine() as engine:
        assert [c.state for c in engine.list_cases(workflow="mp_steps")] == ["assessed"] * 3
    assert _staging_databases() == staging_before  # every staging database dropped


def test_a_damaged_dump_is_refused_and_replace_keeps_the_old_schema_aside(
    live: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    with live.engine() as engine:
        engine.create_case("mp_steps", {"worker": 7}, CLERK)  # after the backup
    dump, manifest = tmp_path / "b" / "database.pgdump", tmp_path / "b" / MANIFEST
    good, signed = dump.read_bytes(), manifest.read_text(encoding="utf-8")
    dump.write_bytes(good[:-64] + bytes(64))
    out = live.run("restore", "--replace", str(tmp_path / "b"), code=1)
    assert "database.pgdump: its SHA-256 does not match the manifest" in out
    assert "replayed 5 case(s)" in live.run("replay")  # the live schema as it was
    resign(tmp_path / "b", live.keys, "database.pgdump")
    out = live.run("restore", "--replace", str(tmp_path / "b"), code=1)
    assert "database.pgdump: it does not restore: pg_restore failed" in out
    assert "replayed 5 case(s)" in live.run("replay")

    dump.write_bytes(good)
    manifest.write_text(signed, encoding="utf-8")
    out = live.run("restore", str(tmp_path / "b"), code=6)
    assert "is not empty: restore over it with --replace" in out
    out = live.run("restore", "--replace", str(tmp_path / "b"))
    aside = out.rsplit("kept aside as schema ", 1)[1].split()[0]
    try:
        assert "replayed 4 case(s)" in live.run("replay")
        assert "every chain verified" in live.run("audit", "verify")
        assert aside in _schemas("%_replaced_%")
        assert not _schemas("%_restore_%")
    finally:
        _drop(aside)


def test_without_pg_dump_the_backup_is_refused_and_leaves_no_folder(
    live: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QINGLIU_PG_BIN", str(tmp_path))  # a folder without the programs
    out = live.run("backup", str(tmp_path / "b"), code=9)
    assert "pg_dump is not installed" in out
    assert not (tmp_path / "b").exists()
    assert not list(tmp_path.glob(".b.partial-*"))
