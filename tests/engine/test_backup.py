"""`qingliu backup`, `backup --verify` and `qingliu restore` on SQLite: a backup of a database
with cases and an evidence photo restores into a new installation where `audit verify` and
`replay` pass; a backup taken while another engine writes is consistent and verifies; a backup
tampered with (an event's payload, a blob, the manifest), made with another key, or restored
over a database that holds data without --replace is refused and the live database is left as
it was. PostgreSQL: tests/postgres/test_backup_pg.py."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from engine.backup import MANIFEST, check, take
from engine.clock import FakeClock
from engine.errors import ConfigError
from engine.keys import KeyRing
from engine.store import backup_pg
from tests.backupkit import CLERK, PHOTO, Install, fill, installation, resign
from tests.conftest import START

DB = "database.sqlite3"


@pytest.fixture
def live(tmp_path: Path) -> Install:
    """The installation backed up: a few cases and a photo (its blob folder beside)."""
    install = installation(tmp_path / "live", f"sqlite:///{tmp_path / 'live' / 'qingliu.db'}")
    with install.engine() as engine:
        fill(engine)
    return install


@pytest.fixture
def fresh(tmp_path: Path) -> Install:
    """A new installation with the same keys and no database yet."""
    return installation(tmp_path / "new", f"sqlite:///{tmp_path / 'new' / 'qingliu.db'}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(install: Install) -> tuple[str, list[str]]:
    """The live database file's digest and its blob files: what a refused restore keeps."""
    path = Path(install.url.removeprefix("sqlite:///"))
    files = sorted(str(p.relative_to(install.blobs)) for p in install.blobs.rglob("*"))
    return _sha(path), files


def _tamper_payload(backup: Path) -> None:
    with closing(sqlite3.connect(backup / DB)) as conn:
        conn.execute(
            "UPDATE events SET payload = ? WHERE trigger = 'note' AND case_id = 2",
            (json.dumps({"note": "改过的"}),),
        )
        conn.commit()
        conn.execute("PRAGMA journal_mode=DELETE")


def test_a_backup_restores_into_a_new_installation_that_verifies_and_replays(
    live: Install, fresh: Install, tmp_path: Path
) -> None:
    live.run("time", "set", "2025-03-31T10:00:00+08:00")  # the installation's clock
    out = live.run("backup", str(tmp_path / "b"))
    assert "written and verified: 4 case(s), 10 event(s)" in out
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["backend"] == "sqlite"
    assert manifest["counts"]["cases"] == 4
    assert manifest["counts"]["blobs"] == 1
    assert manifest["history_head"]["gseq"] == 11  # the fill, then the clock's setting
    assert manifest["taken_at"] == "2025-03-31T02:00:00+00:00"  # the engine's clock
    key = (live.keys / "history.key").read_text(encoding="ascii").strip()
    assert key not in json.dumps(manifest)  # the fingerprint names the key, never holds it
    assert not list(tmp_path.glob(".b.partial-*"))

    assert "verified (sqlite)" in live.run("backup", "--verify", str(tmp_path / "b"))
    fresh.run("db", "upgrade")  # an empty database is simply replaced, nothing kept aside
    out = fresh.run("restore", str(tmp_path / "b"))
    assert "blobs: 3 file(s) written" in out  # the photo and its public and thumbnail copies
    assert "kept aside" not in out
    assert not list((tmp_path / "new").glob("qingliu.db.*"))
    assert "every chain verified" in fresh.run("audit", "verify")
    assert "replayed 4 case(s), 0 mismatch(es)" in fresh.run("replay")
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert (fresh.blobs / digest[:2] / digest).read_bytes() == PHOTO
    with fresh.engine() as engine:
        assert [c.state for c in engine.list_cases(workflow="mp_steps")] == ["assessed"] * 3


def test_a_backup_taken_while_another_engine_writes_is_consistent_and_verifies(
    live: Install, tmp_path: Path
) -> None:
    started, stop = threading.Event(), threading.Event()
    fired: list[int] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with live.engine(FakeClock(START)) as engine:
                case_id = engine.create_case("mp_steps", {"worker": 9}, CLERK).id
                while not stop.is_set():
                    engine.fire(case_id, "note", CLERK, {"note": f"第{len(fired)}次"})
                    fired.append(case_id)
                    if len(fired) == 5:
                        started.set()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
            started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(120)
        with live.engine() as engine:
            manifest = take(
                engine.store, engine.keys, live.blobs, tmp_path / "b", START, verify=False
            )
    finally:
        stop.set()
        thread.join(120)
    assert not failures
    assert manifest["counts"]["events"] >= 10 + 1 + 5  # the fill, the case, its first notes
    assert check(tmp_path / "b", KeyRing(live.keys), live.url) == manifest


def test_a_payload_changed_in_the_backup_is_refused_and_nothing_live_changes(
    live: Install, fresh: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    _tamper_payload(tmp_path / "b")
    out = live.run("backup", "--verify", str(tmp_path / "b"), code=1)
    assert f"{DB}: its SHA-256 does not match the manifest (it was altered)" in out
    before = _state(live)
    out = live.run("restore", "--replace", str(tmp_path / "b"), code=1)
    assert "REFUSED" in out
    assert _state(live) == before
    fresh.run("restore", str(tmp_path / "b"), code=1)
    assert not Path(fresh.url.removeprefix("sqlite:///")).exists()

    resign(tmp_path / "b", live.keys, DB)  # the digest made to match: the chain still tells
    out = fresh.run("restore", str(tmp_path / "b"), code=1)
    assert "case 2 event 3: content does not match its hash" in out
    assert not Path(fresh.url.removeprefix("sqlite:///")).exists()
    assert not fresh.blobs.exists()  # refused before a single blob was copied


def test_a_blob_changed_in_the_backup_is_refused(
    live: Install, fresh: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    digest = hashlib.sha256(PHOTO).hexdigest()
    name = f"blobs/{digest[:2]}/{digest}"
    blob = tmp_path / "b" / name
    blob.chmod(0o644)
    blob.write_bytes(PHOTO[:-1] + b"\x00")
    out = fresh.run("restore", str(tmp_path / "b"), code=1)
    assert f"{name}: its SHA-256 does not match the manifest" in out
    resign(tmp_path / "b", live.keys, name)
    out = fresh.run("restore", "--check", str(tmp_path / "b"), code=1)
    assert f"attachment {digest} does not hash to its digest" in out
    assert not fresh.blobs.exists()


def test_an_edited_manifest_and_an_added_file_are_refused(live: Install, tmp_path: Path) -> None:
    live.run("backup", str(tmp_path / "b"))
    path = tmp_path / "b" / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"][DB] = "0" * 64
    path.write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "b" / "blobs" / "extra").write_bytes(b"planted")
    out = live.run("backup", "--verify", str(tmp_path / "b"), code=1)
    assert f"{MANIFEST}: its signature does not verify: it was altered" in out
    assert f"{DB}: its SHA-256 does not match the manifest" in out
    assert "blobs/extra: not in the manifest (added after the backup)" in out
    before = _state(live)
    live.run("restore", "--replace", str(tmp_path / "b"), code=1)
    assert _state(live) == before


def test_a_backup_made_with_another_key_is_refused_naming_both_fingerprints(
    live: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    theirs = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))["key"]
    other = installation(tmp_path / "other", f"sqlite:///{tmp_path / 'o.db'}", tmp_path / "k2")
    KeyRing(other.keys).get("history")
    out = other.run("restore", str(tmp_path / "b"), code=1)
    assert f"made with another history key (fingerprint {theirs['fingerprint']})" in out
    assert not (tmp_path / "o.db").exists()  # refused before anything was written
    ours = other.run("backup", str(tmp_path / "b2")).rsplit("key fingerprint ", 1)[1].strip()
    assert f"this installation's key is {ours}" in out
    assert ours != theirs["fingerprint"]

    missing = installation(tmp_path / "m", f"sqlite:///{tmp_path / 'm.db'}", tmp_path / "none")
    out = missing.run("restore", str(tmp_path / "b"), code=9)
    assert "the history key" in out
    assert "restore the keys folder from its own offline backup first" in out


def test_restore_over_a_database_that_holds_data_needs_replace_and_keeps_it_aside(
    live: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    with live.engine() as engine:
        engine.create_case("mp_steps", {"worker": 7}, CLERK)  # after the backup
    before = _state(live)
    out = live.run("restore", str(tmp_path / "b"), code=6)
    assert "is not empty: restore over it with --replace" in out
    assert _state(live) == before
    out = live.run("restore", "--replace", str(tmp_path / "b"))
    aside = Path(out.rsplit("kept aside as ", 1)[1].strip())
    assert aside.name.startswith("qingliu.db.replaced-")
    with closing(sqlite3.connect(aside)) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone() == (5,)
    assert "replayed 4 case(s)" in live.run("replay")
    assert "every chain verified" in live.run("audit", "verify")


def test_a_backup_refuses_a_folder_that_is_not_empty_and_a_damaged_blob_folder(
    live: Install, tmp_path: Path
) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    out = live.run("backup", str(tmp_path / "full"), code=6)
    assert "already exists and is not an empty folder" in out
    (tmp_path / "empty").mkdir()
    live.run("backup", str(tmp_path / "empty"))
    assert (tmp_path / "empty" / MANIFEST).exists()

    digest = hashlib.sha256(PHOTO).hexdigest()
    blob = live.blobs / digest[:2] / digest
    blob.chmod(0o644)
    blob.write_bytes(b"not the photo")
    out = live.run("backup", str(tmp_path / "c"), code=1)  # a backup that cannot prove itself
    assert f"attachment {digest} does not hash to its digest" in out
    assert not (tmp_path / "c").exists()
    assert not list(tmp_path.glob(".c.partial-*"))


def test_without_pg_dump_a_postgresql_backup_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QINGLIU_PG_BIN", str(tmp_path))
    with pytest.raises(ConfigError, match=r"pg_dump is not installed \(looked in QINGLIU_PG_BIN"):
        backup_pg.tool("pg_dump")
    assert backup_pg.schema_of("postgresql+psycopg://u@h/db?options=-csearch_path%3Dt_1") == "t_1"
    assert backup_pg.schema_of("postgresql+psycopg://u@h/db") == "public"


def test_a_backup_restores_only_into_the_backend_it_was_taken_on(
    live: Install, tmp_path: Path
) -> None:
    live.run("backup", str(tmp_path / "b"))
    url = "postgresql+psycopg://qingliu:s3cret@127.0.0.1:1/nowhere"  # never reached
    other = installation(tmp_path / "pg", url)
    out = other.run("restore", str(tmp_path / "b"), code=9)
    assert "is of a sqlite database and postgresql+psycopg://qingliu:***@" in out
    assert "s3cret" not in out


def test_a_restore_where_the_sealing_key_is_missing_or_another_is_refused(
    live: Install, tmp_path: Path
) -> None:
    """The history key alone proves the chain, but without the sealing key it was made with
    no reporter's name of a restored 随手拍 report opens: refused before anything is written."""
    live.run("backup", str(tmp_path / "b"))
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["keys"]) >= {"history", "sealing"}
    partial = tmp_path / "partial-keys"
    partial.mkdir()
    history = (live.keys / "history.key").read_text(encoding="ascii")
    (partial / "history.key").write_text(history, encoding="ascii")
    other = installation(tmp_path / "o", f"sqlite:///{tmp_path / 'o.db'}", partial)
    out = other.run("restore", str(tmp_path / "b"), code=1)
    theirs = manifest["keys"]["sealing"]
    assert f"the sealing key it was made with (fingerprint {theirs}) is missing here" in out
    assert not (tmp_path / "o.db").exists()
    assert sorted(p.name for p in partial.iterdir()) == ["history.key"]  # none was made
    KeyRing(tmp_path / "k3").get("sealing", 64)  # another deployment's sealing key
    (partial / "sealing.key").write_text(
        (tmp_path / "k3" / "sealing.key").read_text("ascii"), "ascii"
    )
    out = other.run("backup", "--verify", str(tmp_path / "b"), code=1)
    assert f"it was made with another sealing key (fingerprint {theirs})" in out


def test_restore_and_verify_refuse_without_a_home_and_make_nothing(
    live: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a folder that is no home, `restore` would have written ./var/qingliu.db there
    while the real home kept its old database: exit 9 instead, nothing made."""
    from click.testing import CliRunner

    from engine.cli import cli

    live.run("backup", str(tmp_path / "b"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    env = {
        "QINGLIU_CONFIG": None,
        "QINGLIU_HOME": None,
        "QINGLIU_DATABASE_URL": None,
        "QINGLIU_KEYS": str(live.keys),
    }
    for args in (["restore", str(tmp_path / "b")], ["backup", "--verify", str(tmp_path / "b")]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 9, result.output
        assert "no Qingliu home found" in result.output
    assert list(elsewhere.iterdir()) == []


def test_a_backup_folder_that_cannot_be_made_is_a_configuration_error(
    live: Install, tmp_path: Path
) -> None:
    """DEST under a file (or on a full or read-only disk): exit 9 naming it, no traceback."""
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    out = live.run("backup", str(tmp_path / "a-file" / "b"), code=9)
    assert f"backup {tmp_path / 'a-file' / 'b'}: cannot use" in out
    assert not list(tmp_path.glob("a-file*/.b.partial-*"))


def test_an_empty_database_written_to_during_the_check_is_not_replaced(
    live: Install, fresh: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found empty, then written to while the backup was checked (a server left running):
    the restore stops (exit 6) rather than unlink what was written."""
    import engine.restore as restore_module

    live.run("backup", str(tmp_path / "b"))
    fresh.run("db", "upgrade")
    real = restore_module.copy_blobs

    def a_server_writes(folder: Path, root: Path) -> int:
        with fresh.engine() as engine:
            fill(engine)
        return real(folder, root)

    monkeypatch.setattr(restore_module, "copy_blobs", a_server_writes)
    out = fresh.run("restore", str(tmp_path / "b"), code=6)
    assert "was written to while the backup was checked" in out
    with fresh.engine() as engine:  # what the server wrote is there
        assert len(engine.list_cases(workflow="mp_steps")) == 3
