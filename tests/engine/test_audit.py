"""`qingliu audit verify` and `qingliu audit checkpoint`, run as commands on a SQLite file that
is tampered with from outside the engine (sqlite3, as anyone who can write the database could):
a chain recomputed without the key, a deleted case, a rolled-back case, a case with no events,
a rewritten head; then a rewrite by someone who holds the key, and a database restored to an
older copy, which only a checkpoint kept elsewhere catches. Rows from before the keyed chain
(revision 0005) keep their plain chain and are sealed by the first keyed write."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.audit import HISTORY_KEY
from engine.cli import cli
from engine.clock import FakeClock
from engine.handlers import Actor
from engine.keys import KeyRing
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from engine.store import migrate
from engine.store._chain import chain_hash, genesis, head_mac, link
from engine.store.repository import Store
from tests.conftest import ROOT, START

CLERK = Actor("clerk", "clerk", None)
STEPS = ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"
DELETED = "deleted (a deleted case, the last events of a rolled-back case, or ledger history)"


def _settings(url: str) -> Settings:
    base = load_settings(ROOT / "config")
    return Settings(
        config_dir=base.config_dir,
        database_url=url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        keys_dir=os.environ["QINGLIU_KEYS"],  # the run's keys, as the commands read them
        reference=base.reference,
    )


@contextmanager
def _engine(url: str, minutes: int = 0) -> Iterator[Engine]:
    engine = build_engine(_settings(url), clock=FakeClock(START + timedelta(minutes=minutes)))
    try:
        yield engine
    finally:
        engine.store.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three cases whose events interleave; the global numbers are, in order:
    a1 b1 c1 a2 b2 b3 c2 a3 b4 c3 (1-10)."""
    path = tmp_path / "audited.db"
    with _engine(f"sqlite:///{path}") as engine:
        engine.load([STEPS])
        a, b, c = (engine.create_case("mp_steps", {"worker": n}, CLERK).id for n in (1, 2, 3))
        for case_id, trigger, payload in [
            (a, "assess", {}),
            (b, "assess", {}),
            (b, "note", {"note": "第二条"}),
            (c, "assess", {}),
            (a, "approve", {}),
            (b, "approve", {}),
            (c, "approve", {}),
        ]:
            engine.fire(case_id, trigger, CLERK, payload)
    assert _gseqs(path, b) == [2, 5, 6, 9]
    assert (a, b, c) == (1, 2, 3)
    return path


def _gseqs(path: Path, case_id: int) -> list[int]:
    with closing(sqlite3.connect(path)) as con:
        rows = con.execute("SELECT gseq FROM events WHERE case_id = ? ORDER BY seq", (case_id,))
        return [r[0] for r in rows]


def _sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Tamper with the file directly, outside the engine."""
    with closing(sqlite3.connect(path)) as con, con:
        for statement, params in statements:
            con.execute(statement, params)


def _audit(path: Path, *args: str, keys: str | None = None) -> tuple[int, str]:
    env = {"QINGLIU_DATABASE_URL": f"sqlite:///{path}", "QINGLIU_CONFIG": str(ROOT / "config")}
    if keys is not None:
        env["QINGLIU_KEYS"] = keys
    result = CliRunner(env=env).invoke(cli, ["audit", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _event(path: Path, case_id: int, seq: int) -> dict[str, object]:
    store = Store(f"sqlite:///{path}")
    try:
        with store.read() as tx:
            return dict(tx.events(case_id)[seq - 1].__dict__)
    finally:
        store.dispose()


def _rechain_case(path: Path, case_id: int, **changes: object) -> None:
    """Rewrite the case's first event with ``changes`` and recompute its chain (SHA-256, no key
    needed) and the case row's last hash, as anyone who can write the file can."""
    store = Store(f"sqlite:///{path}")
    try:
        with store.read() as tx:
            rows = [dict(e.__dict__) for e in tx.events(case_id)]
    finally:
        store.dispose()
    rows[0].update(changes)
    prev, statements = "0" * 64, []
    for row in rows:
        row["hash"] = chain_hash(prev, row)
        statements.append(
            (
                "UPDATE events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (row["actor"], prev, row["hash"], row["id"]),
            )
        )
        prev = str(row["hash"])
    statements.append(("UPDATE cases SET last_hash = ? WHERE id = ?", (prev, case_id)))
    _sql(path, *statements)


def _relink_all(path: Path, key: bytes) -> None:
    """What someone holding the key can do: recompute every global link and the head."""
    store = Store(f"sqlite:///{path}")
    try:
        with store.read() as tx:
            start = genesis(key, tx.legacy_digest())
    finally:
        store.dispose()
    with closing(sqlite3.connect(path)) as con, con:
        rows = con.execute("SELECT id, gseq, hash FROM events ORDER BY gseq").fetchall()
        prev = start
        for row_id, gseq, hash_ in rows:
            prev = link(key, gseq, prev, hash_)
            con.execute("UPDATE events SET ghash = ? WHERE id = ?", (prev, row_id))
        last = rows[-1][1]
        con.execute(
            "UPDATE history_head SET gseq = ?, hash = ?, mac = ?",
            (last, prev, head_mac(key, last, prev)),
        )


def test_a_sound_database_verifies_and_replays(db: Path) -> None:
    code, out = _audit(db, "verify")
    assert (code, out.strip()) == (
        0,
        "audit: every chain verified (3 case(s); keyed global chain of 10 row(s))",
    )
    result = CliRunner(
        env={"QINGLIU_DATABASE_URL": f"sqlite:///{db}", "QINGLIU_CONFIG": str(ROOT / "config")}
    ).invoke(cli, ["replay"])
    assert (result.exit_code, result.output.strip()) == (0, "replayed 3 case(s), 0 mismatch(es)")


def test_a_chain_recomputed_without_the_key_is_reported(db: Path) -> None:
    _rechain_case(db, 2, actor="someone else")
    code, out = _audit(db, "verify")
    assert code == 1
    assert (
        "history: global event 2 (case 2 event 1) does not match its keyed link: it was "
        "rewritten without the key"
    ) in out
    assert "audit: FAILED: 1 problem(s) in the history" in out  # the case once, not each row


def test_a_deleted_case_is_reported(db: Path) -> None:
    _sql(
        db,
        ("DELETE FROM case_parties WHERE case_id = 3", ()),
        ("DELETE FROM events WHERE case_id = 3", ()),
        ("DELETE FROM cases WHERE id = 3", ()),
    )
    code, out = _audit(db, "verify")
    assert code == 1
    assert f"history: global event 3 is missing: {DELETED}" in out
    assert f"history: global event 7 is missing: {DELETED}" in out
    assert (
        "history: the last global event 10 is missing (the head records 10, the history ends "
        f"at 9): {DELETED}"
    ) in out


def test_a_rolled_back_case_is_reported(db: Path) -> None:
    """Case 2 loses its last two events (the note and the approval) and its row is reset to
    match its event 2: the case on its own is consistent and replays; the global chain is not."""
    kept = _event(db, 2, 2)
    _sql(
        db,
        ("DELETE FROM events WHERE case_id = 2 AND seq > 2", ()),
        (
            "UPDATE cases SET state = 'assessed', version = 2, data = ?, last_hash = ? "
            "WHERE id = 2",
            (json.dumps({"worker": 2}), kept["hash"]),
        ),
    )
    code, out = _audit(db, "verify")
    assert code == 1
    assert f"history: global event 6 is missing: {DELETED}" in out
    assert f"history: global event 9 is missing: {DELETED}" in out
    assert "case 2" not in out  # nothing within the case shows it


def test_a_case_with_no_events_is_reported(db: Path) -> None:
    _sql(db, ("DELETE FROM events WHERE case_id = 1", ()))
    code, out = _audit(db, "verify")
    assert code == 1
    assert "case 1: has no history (every event of it was deleted)" in out
    for gseq in (1, 4, 8):
        assert f"history: global event {gseq} is missing: {DELETED}" in out


def test_the_end_cut_off_and_the_head_rewritten_without_the_key_is_reported(db: Path) -> None:
    kept = _event(db, 3, 2)
    with closing(sqlite3.connect(db)) as con:
        ninth = con.execute("SELECT ghash FROM events WHERE gseq = 9").fetchone()[0]
    forged = head_mac(b"not the key", 9, ninth)
    _sql(
        db,
        ("DELETE FROM events WHERE gseq = 10", ()),
        (
            "UPDATE cases SET state = 'assessed', version = 2, last_hash = ? WHERE id = 3",
            (kept["hash"],),
        ),
        ("UPDATE history_head SET gseq = 9, hash = ?, mac = ?", (ninth, forged)),
    )
    code, out = _audit(db, "verify")
    assert code == 1
    assert "history: the head (global event 9) is not signed by the key: it was rewritten" in out
    with _engine(f"sqlite:///{db}", minutes=5) as engine:  # later writes do not launder it
        engine.fire(1, "close", CLERK)
    code, out = _audit(db, "verify")
    assert code == 1
    assert "history: the head (global event 10) is not signed by the key: it was rewritten" in out


def test_a_checkpoint_catches_a_rewrite_by_someone_who_holds_the_key(
    db: Path, tmp_path: Path
) -> None:
    mark = tmp_path / "checkpoint.json"
    code, out = _audit(db, "checkpoint", "--out", str(mark))
    assert code == 0, out
    saved = json.loads(mark.read_text(encoding="utf-8"))
    assert json.loads(out) == saved
    assert (saved["format"], saved["gseq"]) == ("qingliu-history-checkpoint/1", 10)
    assert set(saved) == {"format", "gseq", "hash", "at", "signature"}
    code, out = _audit(db, "verify", "--since", str(mark))
    assert code == 0, out
    assert f"checkpoint of {saved['at']} holds" in out

    key = KeyRing(os.environ["QINGLIU_KEYS"]).get(HISTORY_KEY)
    _rechain_case(db, 2, actor="someone else")
    _relink_all(db, key)
    assert _audit(db, "verify")[0] == 0  # with the key, a rewrite is consistent...
    code, out = _audit(db, "verify", "--since", str(mark))
    assert code == 1  # ... but not with the checkpoint kept elsewhere
    assert (
        f"checkpoint of {saved['at']}: global event 10 is not the one it saw: the history at "
        "or before it was rewritten"
    ) in out


def test_a_checkpoint_catches_a_database_restored_to_an_older_copy(
    db: Path, tmp_path: Path
) -> None:
    older = tmp_path / "older.db"
    with closing(sqlite3.connect(db)) as src, closing(sqlite3.connect(older)) as dst:
        src.backup(dst)
    with _engine(f"sqlite:///{db}", minutes=5) as engine:
        engine.fire(3, "close", CLERK)
    mark = tmp_path / "checkpoint.json"
    assert _audit(db, "checkpoint", "--out", str(mark))[0] == 0
    for leftover in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    older.replace(db)
    assert _audit(db, "verify")[0] == 0
    code, out = _audit(db, "verify", "--since", str(mark))
    assert code == 1
    at = json.loads(mark.read_text(encoding="utf-8"))["at"]
    assert (
        f"checkpoint of {at}: it saw global event 11, the history now ends at 10: it was "
        "rolled back"
    ) in out


def test_a_forged_or_unreadable_checkpoint_is_refused(db: Path, tmp_path: Path) -> None:
    mark = tmp_path / "checkpoint.json"
    assert _audit(db, "checkpoint", "--out", str(mark))[0] == 0
    edited = {**json.loads(mark.read_text(encoding="utf-8")), "gseq": 5}
    mark.write_text(json.dumps(edited), encoding="utf-8")
    code, out = _audit(db, "verify", "--since", str(mark))
    assert code == 1
    assert "its signature does not verify with this key (forged, edited, or made with" in out
    mark.write_text("{oops", encoding="utf-8")
    code, out = _audit(db, "verify", "--since", str(mark))
    assert code == 2
    assert "--since" in out


def test_a_damaged_history_gets_no_checkpoint(db: Path) -> None:
    _sql(db, ("DELETE FROM events WHERE gseq = 4", ()))
    code, out = _audit(db, "checkpoint")
    assert code == 1
    assert "signature" not in out
    assert "case 1: event 2 is missing (found seq 3)" in out


def test_without_its_key_the_history_cannot_be_verified(db: Path, tmp_path: Path) -> None:
    code, out = _audit(db, "verify", keys=str(tmp_path / "elsewhere"))
    assert code == 9
    assert f"the history key {tmp_path / 'elsewhere' / 'history.key'} is missing" in out


# -- a database from before revision 0005 ---------------------------------------------------------


def _legacy_database(path: Path) -> None:
    """At revision 0004: two cases of two plain-SHA-256 events each, as the engine wrote them."""
    store = Store(f"sqlite:///{path}")
    try:
        migrate.upgrade(store, "0004")
    finally:
        store.dispose()
    when = START.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    statements: list[tuple[str, tuple[object, ...]]] = [
        (
            "INSERT INTO definitions (id, name, version, title, source, content_hash, "
            "created_at) VALUES (1, 'mp_steps', 1, 't', ?, ?, ?)",
            (STEPS.read_text(encoding="utf-8"), "0" * 64, when),
        )
    ]
    for case_id in (1, 2):
        prev = "0" * 64
        for seq, kind, trigger, transition, source, dest in [
            (1, "created", None, None, None, "open"),
            (2, "transition", "assess", 0, "open", "assessed"),
        ]:
            content = {
                "case_id": case_id,
                "seq": seq,
                "kind": kind,
                "trigger": trigger,
                "transition": transition,
                "from_state": source,
                "to_state": dest,
                "actor": "clerk",
                "role": "clerk",
                "jurisdiction": None,
                "payload": {},
                "patch": {},
                "at": START,
                "due_at": None,
            }
            hash_ = chain_hash(prev, content)
            statements.append(
                (
                    'INSERT INTO events (case_id, seq, kind, "trigger", transition, from_state, '
                    "to_state, actor, role, jurisdiction, payload, patch, at, due_at, prev_hash, "
                    "hash) VALUES (?, ?, ?, ?, ?, ?, ?, 'clerk', 'clerk', NULL, '{}', '{}', ?, "
                    "NULL, ?, ?)",
                    (case_id, seq, kind, trigger, transition, source, dest, when, prev, hash_),
                )
            )
            prev = hash_
        statements.insert(
            len(statements) - 2,
            (
                "INSERT INTO cases (id, definition_id, workflow, workflow_version, state, data, "
                "version, subject, jurisdiction, is_open, last_hash, created_at, updated_at) "
                "VALUES (?, 1, 'mp_steps', 1, 'assessed', '{}', 2, NULL, NULL, 1, ?, ?, ?)",
                (case_id, prev, when, when),
            ),
        )
    _sql(path, *statements)


def test_rows_from_before_the_keyed_chain_keep_theirs_and_are_sealed_by_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _legacy_database(path)
    store = Store(f"sqlite:///{path}")
    try:
        assert migrate.upgrade(store) == ("0004", migrate.head())
    finally:
        store.dispose()
    code, out = _audit(path, "verify")
    assert (code, out.strip()) == (
        0,
        "audit: every chain verified (2 case(s); keyed global chain of 0 row(s); 4 event(s) "
        "from before it, sealed by its first row when one is written)",
    )
    with _engine(f"sqlite:///{path}", minutes=1) as engine:
        engine.fire(1, "approve", CLERK)
    assert _gseqs(path, 1) == [None, None, 1]
    code, out = _audit(path, "verify")
    assert code == 0, out
    assert "(2 case(s); keyed global chain of 1 row(s); 4 event(s) from before it, sealed" in out

    _rechain_case(path, 2, actor="someone else")  # a case only the old chain held
    code, out = _audit(path, "verify")
    assert code == 1
    assert (
        "history: global event 1 (case 1 event 3) does not chain from the start of the keyed "
        "chain: the history from before it (revision 0005) changed"
    ) in out
