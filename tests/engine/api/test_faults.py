"""Faults that are not the caller's: a bug is a 500 problem with an error id and nothing
internal (the log has the traceback under the id); a database that cannot take requests is
503 with ``Retry-After``. Both are normal responses: the keep-alive connection survives."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.cli import cli
from engine.clock import FakeClock
from engine.errors import HandlerFailed
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.store.faults import unavailable
from tests.conftest import ROOT
from tests.engine.api.conftest import FIXTURE
from tests.engine.api.helpers import WORKFLOW, case_body, problem

Tokens = dict[str, dict[str, str]]
SECRETS = ("RuntimeError", "KeyError", "SELECT", "/srv/qingliu", "printer on fire")


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _logged(caplog: pytest.LogCaptureFixture, error_id: str) -> logging.LogRecord:
    found = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(found) == 1, [r.getMessage() for r in caplog.records]
    assert found[0].exc_info is not None  # the traceback is in the log, under the id
    return found[0]


def test_a_bug_in_a_route_is_a_500_problem_with_an_error_id(
    client: TestClient,
    api_engine: Engine,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("SELECT * FROM cases; see /srv/qingliu/var")

    monkeypatch.setattr(api_engine, "get_case", broken)
    answer = client.get("/api/v1/cases/1", headers=tokens["city"])
    body = problem(answer, 500, "internal-error")
    assert uuid.UUID(body["error_id"]).version == 4
    assert body["error_id"] in body["detail"]
    assert _leaks(answer.text) == []
    record = _logged(caplog, body["error_id"])
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_a_failed_handler_says_nothing_internal_and_logs_its_cause(
    client: TestClient,
    api_engine: Engine,
    tokens: Tokens,
    new_case: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = new_case()

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise HandlerFailed("write_note", case["id"], KeyError("printer on fire in /srv/qingliu"))

    monkeypatch.setattr(api_engine, "fire_in", broken)
    answer = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"trigger": "accept"},
        headers=tokens["city"],
    )
    body = problem(answer, 500, "handler-failed")
    assert _leaks(answer.text) == []
    record = _logged(caplog, body["error_id"])
    assert record.exc_info is not None
    assert "printer on fire" in str(record.exc_info[1])


# -- the database unavailable ----------------------------------------------------------------


@dataclass
class ReadOnly:
    """A SQLite database with a token and a case, and an engine that opened it read-only:
    every write fails with SQLite's ``attempt to write a readonly database``, as on a
    read-only mount (whatever the backend of the run: the fault is SQLite's)."""

    engine: Engine
    url: str
    headers: dict[str, str]
    case_id: int


@pytest.fixture
def read_only(tmp_path: Path, settings: Settings, clock: FakeClock) -> Iterator[ReadOnly]:
    path = tmp_path / "read-only.db"
    writable = build_engine(replace(settings, database_url=f"sqlite:///{path}"), clock=clock)
    writable.load([FIXTURE])
    _, secret = create_token(writable, "市生态环境局", "eeb_city", "liaocheng")
    actor = Actor("市生态环境局", "eeb_city", "liaocheng")
    case_id = writable.create_case(WORKFLOW, case_body()["data"], actor).id
    writable.store.dispose()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = build_engine(replace(settings, database_url=url), clock=clock)
    yield ReadOnly(engine, url, {"Authorization": f"Bearer {secret}"}, case_id)
    engine.store.dispose()


def test_a_read_only_database_is_503_with_retry_after(
    read_only: ReadOnly, caplog: pytest.LogCaptureFixture
) -> None:
    city = read_only.headers
    with TestClient(create_app(read_only.engine)) as client:
        fired = client.post(
            f"/api/v1/cases/{read_only.case_id}/transitions",
            json={"trigger": "accept"},
            headers=city,
        )
        created = client.post("/api/v1/cases", json=case_body(code="OF-2"), headers=city)
        read = client.get(f"/api/v1/cases/{read_only.case_id}", headers=city)
    for answer in (fired, created):
        body = problem(answer, 503, "unavailable")
        assert answer.headers["retry-after"] == "5"
        assert "readonly" not in answer.text
        assert "INSERT" not in answer.text
        record = _logged(caplog, body["error_id"])
        assert record.levelno == logging.WARNING
    assert read.status_code == 200  # reads go on


def test_the_classification_of_database_errors() -> None:
    refused = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(OperationalError) as info:
        refused.connect()
    assert unavailable(info.value)
    memory = create_engine("sqlite://")
    with memory.connect() as conn:
        with pytest.raises(OperationalError) as missing:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
        assert not unavailable(missing.value)  # a bug, not a fault of the database
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(IntegrityError) as duplicate:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert not unavailable(duplicate.value)
    assert not unavailable(RuntimeError("database is locked"))


# -- over a real connection ------------------------------------------------------------------


def _request(method: str, path: str, headers: dict[str, str], body: Any = None) -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: test", f"Content-Length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status = int(head.split(" ", 2)[1])
    headers = {}
    for line in head.split("\r\n")[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers, await reader.readexactly(int(headers["content-length"]))


def _keep_alive(app: FastAPI, requests: list[bytes]) -> list[tuple[int, dict[str, str], bytes]]:
    """``requests`` sent one after the other on one connection to a real uvicorn server."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))

    async def run() -> list[tuple[int, dict[str, str], bytes]]:
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        for request in requests:
            writer.write(request)
            answers.append(await _answer(reader))
        writer.close()
        server.should_exit = True
        await serving
        return answers

    try:
        return asyncio.run(run())
    finally:
        listening.close()


def test_faults_keep_the_connection(read_only: ReadOnly, monkeypatch: pytest.MonkeyPatch) -> None:
    city, case_id = read_only.headers, read_only.case_id

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(read_only.engine, "list_cases", broken)
    answers = _keep_alive(
        create_app(read_only.engine),
        [
            _request("POST", f"/api/v1/cases/{case_id}/transitions", city, {"trigger": "accept"}),
            _request("GET", "/api/v1/cases", city),
            _request("GET", f"/api/v1/cases/{case_id}", city),
        ],
    )
    assert [status for status, _, _ in answers] == [503, 500, 200]
    assert all(headers.get("connection") != "close" for _, headers, _ in answers)
    assert answers[0][1]["content-type"] == "application/problem+json"


def test_the_cli_names_a_bad_database_url_without_a_traceback(tmp_path: Path) -> None:
    for url, message in [
        ("not a url", "cannot use database"),
        ("mysql://someone@nowhere/db", "cannot use database"),
        (f"sqlite:///{tmp_path}/file/q.db", "cannot open database"),
    ]:
        (tmp_path / "file").write_text("")
        env = {"QINGLIU_DATABASE_URL": url, "QINGLIU_CONFIG": str(ROOT / "config")}
        result = CliRunner(env=env).invoke(cli, ["workflows"])
        assert result.exit_code == 9, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_the_cli_exits_unavailable_when_the_database_is(read_only: ReadOnly) -> None:
    env = {"QINGLIU_DATABASE_URL": read_only.url, "QINGLIU_CONFIG": str(ROOT / "config")}
    data = json.dumps(case_body(code="OF-3")["data"])
    result = CliRunner(env=env).invoke(cli, ["case", "create", WORKFLOW, "--data", data])
    assert result.exit_code == 10, result.output
    assert result.output.startswith("error: the database cannot take requests now")
    assert "readonly database" in result.output  # the operator is told why
    assert "Traceback" not in result.output
