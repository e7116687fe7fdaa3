"""A SQLite commit that fails for want of space leaves the process able to write again.

The fault is real: a child process lowers its file-size limit (``RLIMIT_FSIZE``, with
``SIGXFSZ`` ignored so that a write past it fails with ``EFBIG`` instead of killing the
process), so SQLite's commit cannot write its pages and fails as on a full disk. While the
limit holds, a keyed transition, a case creation and a timer sweep are refused and change
nothing; once it is lifted, the same process (the same store and its kept write connection)
does all three. The child reports what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.store import migrate
from engine.store.repository import Store
from tests.conftest import ROOT, START


def _child(url: str) -> dict[str, Any]:  # pragma: no cover - runs in the subprocess
    import resource
    import signal

    from fastapi.testclient import TestClient

    from engine.api.app import create_app
    from engine.api.tokens import create_token
    from engine.clock import FakeClock
    from engine.handlers import Actor
    from engine.settings import Settings, build_engine, load_settings
    from engine.time.sweep import sweep
    from tests.engine.api.conftest import FIXTURE
    from tests.engine.api.helpers import case_body

    base = load_settings(ROOT / "config")
    settings = Settings(
        config_dir=base.config_dir,
        database_url=url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        reference=base.reference,
    )
    clock = FakeClock(START)
    engine = build_engine(settings, clock=clock)
    engine.load([FIXTURE])
    _, secret = create_token(engine, "市生态环境局", "eeb_city", "liaocheng")
    auth = {"Authorization": f"Bearer {secret}"}
    client = TestClient(create_app(engine), raise_server_exceptions=False)
    seen: dict[str, Any] = {}

    def create(code: str) -> int:
        return client.post("/api/v1/cases", json=case_body(code=code), headers=auth).status_code

    def fire(case_id: int) -> tuple[int, bool]:
        response = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"trigger": "accept"},
            headers={**auth, "Idempotency-Key": f"accept-{case_id}"},
        )
        return response.status_code, "idempotent-replayed" in response.headers

    def swept() -> str:
        try:
            return ",".join(f.outcome for f in sweep(engine).firings)
        except Exception as exc:
            return type(exc).__name__

    assert create("OF-DUE") == 201
    assert fire(1) == (200, False)  # case 1 is reviewing: its review limit is armed
    assert create("OF-KEYED") == 201
    clock.advance(timedelta(days=60))  # the review limit of case 1 is due

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
    try:
        seen["during"] = {"fire": fire(2)[0], "create": create("OF-FULL"), "sweep": swept()}
        try:
            engine.fire(2, "comment", Actor("市生态环境局", "eeb_city", "liaocheng"), {"note": "x"})
        except Exception as exc:  # what the store lets through to the API's error mapping
            seen["during"]["raised"] = f"{type(exc).__module__}.{type(exc).__name__}"
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    seen["after"] = {"fire": fire(2), "create": create("OF-AFTER"), "sweep": swept()}
    with engine.store.read() as tx:
        seen["cases"] = [(c.data["outfall_code"], c.state) for c in tx.list_cases()]
        seen["events"] = {c.id: [e.kind for e in tx.events(c.id)] for c in tx.list_cases()}
    seen["audit"] = [str(problem) for problem in engine.verify_audit()]
    engine.store.dispose()
    return seen


def test_a_commit_that_finds_the_disk_full_leaves_the_store_able_to_write(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"
    code = (
        "import json, sys; from tests.engine.store.test_full_disk import _child; "
        "print(json.dumps(_child(sys.argv[1])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, url],
        cwd=ROOT,
        env={**os.environ, "QINGLIU_CONFIG": str(ROOT / "config")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    during = seen["during"]
    assert during["fire"] >= 500, seen
    assert during["create"] >= 500, seen
    assert during["raised"] == "sqlalchemy.exc.OperationalError", seen
    assert during["sweep"] == "retry", seen  # the sweep reports the failed firing and goes on
    assert seen["after"] == {"fire": [200, False], "create": 201, "sweep": "fired"}, seen
    assert seen["cases"] == [
        ["OF-DUE", "reviewing"],  # overdue is an internal transition
        ["OF-KEYED", "reviewing"],
        ["OF-AFTER", "submitted"],
    ], seen
    assert seen["events"] == {  # nothing of the refused writes, one firing after the fault
        "1": ["created", "transition", "transition"],
        "2": ["created", "transition"],
        "3": ["created"],
    }
    assert seen["audit"] == []


class _Lost(Exception):
    pass


def _write_and_lose_the_connection(store: Store) -> None:
    with store.write() as tx:
        tx.put_subject("outfall", "LOST", {"code": "LOST"}, None, START)
        tx.conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
        raise _Lost


def test_a_kept_connection_that_cannot_roll_back_is_replaced(tmp_path: Path) -> None:
    """The write's own error reaches the caller, not the failed rollback's, and the next
    write opens a new connection instead of reusing the broken one."""
    store = Store(f"sqlite:///{tmp_path / 'lost.db'}")
    try:
        migrate.upgrade(store)
        with pytest.raises(_Lost):
            _write_and_lose_the_connection(store)
        with store.write() as tx:
            tx.put_subject("outfall", "KEPT", {"code": "KEPT"}, None, START)
        with store.read() as tx:
            assert tx.get_subject("outfall", "LOST") is None
            assert tx.get_subject("outfall", "KEPT") == {"code": "KEPT"}
    finally:
        store.dispose()
