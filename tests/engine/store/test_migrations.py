"""Schema revisions: the upgraded schema is exactly engine/store/tables.py, upgrades keep data,
and the application refuses a database whose schema it does not match."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text

from engine.errors import ConfigError
from engine.settings import Settings, build_engine
from engine.store import migrate
from engine.store.repository import Store
from engine.store.tables import definitions, metadata
from tests.conftest import ROOT, START

HOW_TO_FIX = (
    "engine/store/tables.py and the schema revisions differ; write a revision with "
    "`qingliu db revision -m '...'`, review it and say why in its docstring"
)


def _upgraded(url: str) -> Store:
    store = Store(url)
    migrate.upgrade(store)
    return store


def _settings(settings: Settings, url: str) -> Settings:
    return Settings(
        config_dir=settings.config_dir,
        database_url=url,
        handlers=settings.handlers,
        workflows=settings.workflows,
        reference=settings.reference,
    )


def test_the_upgraded_schema_is_exactly_the_tables_module(database_url: str) -> None:
    store = _upgraded(database_url)
    try:
        with store.read() as tx:
            context = MigrationContext.configure(tx.conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        store.dispose()
    assert differences == [], f"{HOW_TO_FIX}:\n" + "\n".join(map(str, differences))


def test_upgrade_creates_then_is_a_no_op(empty_database_url: str) -> None:
    store = Store(empty_database_url)
    try:
        assert migrate.status(store).empty
        assert migrate.upgrade(store) == (None, migrate.head())
        assert migrate.upgrade(store) == (migrate.head(), migrate.head())
        found = migrate.status(store)
        assert found.up_to_date
        assert found.describe() == f"{migrate.head()} (head, up to date)"
    finally:
        store.dispose()


def test_an_upgrade_from_the_first_revision_keeps_the_rows(
    empty_database_url: str, settings: Settings
) -> None:
    first = migrate.revisions()[0][0]
    store = Store(empty_database_url)
    try:
        migrate.upgrade(store, first)
        with store.write() as tx:
            tx.conn.execute(
                insert(definitions).values(
                    name="kept",
                    version=1,
                    title="t",
                    source="s",
                    content_hash="h",
                    created_at=START,
                )
            )
        if first != migrate.head():
            with pytest.raises(ConfigError) as refused:
                build_engine(_settings(settings, empty_database_url))
            assert str(refused.value) == (
                f"database {migrate.hidden(empty_database_url)} is at schema revision {first}, "
                f"this version of Qingliu needs {migrate.head()}: run `qingliu db upgrade`"
            )
        assert migrate.upgrade(store) == (first, migrate.head())
        engine = build_engine(_settings(settings, empty_database_url))
        with engine.store.read() as tx:
            assert tx.conn.execute(select(definitions.c.name)).scalars().all() == ["kept"]
        engine.store.dispose()
    finally:
        store.dispose()


def test_a_new_sqlite_database_is_created_on_first_use(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'new.db'}"
    engine = build_engine(_settings(settings, url))
    try:
        assert migrate.status(engine.store).up_to_date
    finally:
        engine.store.dispose()


@pytest.mark.postgres
def test_an_empty_postgres_database_is_not_created_behind_the_operators_back(
    empty_database_url: str, settings: Settings
) -> None:
    with pytest.raises(ConfigError) as refused:
        build_engine(_settings(settings, empty_database_url))
    assert str(refused.value) == (
        f"database {migrate.hidden(empty_database_url)} has no Qingliu schema: "
        "run `qingliu db upgrade`"
    )


def test_a_revision_this_version_does_not_know_is_refused(
    database_url: str, settings: Settings
) -> None:
    store = _upgraded(database_url)
    try:
        with store.write() as tx:
            tx.conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        for attempt in (
            lambda: build_engine(_settings(settings, database_url)),
            lambda: migrate.upgrade(store),
        ):
            with pytest.raises(ConfigError) as refused:
                attempt()
            assert str(refused.value) == (
                f"database {migrate.hidden(database_url)} is at schema revision f00d, which this "
                f"version of Qingliu does not know (it needs {migrate.head()}): upgrade Qingliu"
            )
    finally:
        store.dispose()


def test_tables_made_without_revisions_are_refused(
    empty_database_url: str, settings: Settings
) -> None:
    store = Store(empty_database_url)
    try:
        metadata.create_all(store.engine)
        with pytest.raises(ConfigError) as refused:
            build_engine(_settings(settings, empty_database_url))
        assert "has tables but no schema revision" in str(refused.value)
        with pytest.raises(ConfigError):
            migrate.upgrade(store)
    finally:
        store.dispose()


def test_an_unreachable_server_is_a_config_error(settings: Settings) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing"
    with pytest.raises(ConfigError) as refused:
        build_engine(_settings(settings, url))
    message = str(refused.value)
    assert message.startswith("cannot open database postgresql+psycopg://nobody:***@127.0.0.1:1/")
    assert "secret" not in message


def test_concurrent_first_upgrades_create_the_schema_once(empty_database_url: str) -> None:
    results: list[tuple[str | None, str]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        store = Store(empty_database_url)
        try:
            results.append(migrate.upgrade(store))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    head = migrate.head()
    assert sorted(results, key=str) == sorted([(None, head), (head, head), (head, head)], key=str)


def test_every_revision_says_what_it_changes_and_why() -> None:
    folder = migrate.MIGRATIONS / "versions"
    names = sorted(p.name for p in folder.glob("[0-9]*.py"))
    assert [n[:4] for n in names] == [r for r, _ in migrate.revisions()]
    for name in names:
        doc = ast.get_docstring(ast.parse((folder / name).read_text(encoding="utf-8"))) or ""
        assert "TODO" not in doc, f"{name}: fill in what changes and why"
        explanation = doc.split("Create Date:", 1)[1].split("\n", 1)[1].strip()
        assert len(explanation) > 80, f"{name}: say what changes and why"


def test_db_commands_as_a_user_runs_them(tmp_path: Path, database_url: str) -> None:
    exe = shutil.which("qingliu", path=str(Path(sys.executable).parent)) or "qingliu"
    fresh = f"sqlite:///{tmp_path / 'cli' / 'q.db'}"

    def run(url: str, *args: str, code: int = 0) -> str:
        env = {**os.environ, "QINGLIU_DATABASE_URL": url, "QINGLIU_CONFIG": str(ROOT / "config")}
        done = subprocess.run(
            [exe, "db", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return (done.stdout + done.stderr).strip()

    head = migrate.head()
    assert run(fresh, "current", code=1) == (
        f"{fresh}: no schema yet (head is {head}): run `qingliu db upgrade`"
    )
    assert run(fresh, "upgrade") == f"{fresh}: upgraded from an empty database to {head}"
    assert run(fresh, "upgrade") == f"{fresh}: already at {head}"
    assert run(fresh, "current") == f"{fresh}: {head} (head, up to date)"
    history = run(fresh, "history").splitlines()
    assert [line.split("\t")[0] for line in history] == [r for r, _ in migrate.revisions()]
    shown = migrate.hidden(database_url)
    _upgraded(database_url).dispose()
    assert run(database_url, "current") == f"{shown}: {head} (head, up to date)"
