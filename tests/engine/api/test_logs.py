"""Log lines: ``qingliu serve --log-format json`` writes one JSON object per line, uvicorn's
access line and the sweep's included, each request's with its request id; query tokens are
masked in both formats; a 随手拍 report leaves no personal data in the log at INFO or DEBUG."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.logs import HideQueryTokens, JsonLines, RequestFields, log_config
from engine.cli import cli
from engine.domain import load_domain
from engine.runtime import Engine
from engine.settings import Settings, load_settings
from tests.conftest import ROOT
from tests.engine.api.live_server import Server
from tests.public.reports import FIELDS, file

FIELDS_OF_A_LINE = {
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
}
PERSONAL = (FIELDS["name"], FIELDS["phone"])


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, "--log-format", "json", "--sweep-seconds", "5")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_serve_json_writes_every_line_as_json_with_the_request_id(json_server: Server) -> None:
    with httpx2.Client(base_url=json_server.base) as client:
        health = client.get("/healthz", headers={"X-Request-ID": "probe-42"})
        refused = client.get("/api/v1/cases?token=qlt_SECRET_IN_QUERY&limit=5")
        page = client.get("/report")
        filed = file(client)  # type: ignore[arg-type]
    assert health.headers["x-request-id"] == "probe-42"
    assert refused.status_code == 422  # a token is never taken from the query
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert page.status_code == 200
    assert filed.status_code == 200, filed.text
    output = json_server.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines, output
    assert all(set(line) >= FIELDS_OF_A_LINE for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    [probe] = [line for line in access if line["request_id"] == "probe-42"]
    assert probe["message"] == "GET /healthz HTTP/1.1 200"
    assert (probe["method"], probe["route"], probe["status"]) == ("GET", "/healthz", 200)
    assert probe["duration_ms"] >= 0
    [masked] = [line for line in access if line["status"] == 422]
    assert masked["message"] == "GET /api/v1/cases?token=***&limit=5 HTTP/1.1 422"
    assert masked["route"] == "/api/v1/cases"
    reports = [line for line in access if line["route"] == "/report"]
    assert [r["method"] for r in reports] == ["GET", "GET", "POST"]
    assert len({line["request_id"] for line in access}) == len(access)
    loaded = [line for line in lines if line["logger"] == "engine.cli.serve"]
    assert any(line["message"].startswith("Qingliu on http://") for line in loaded)
    assert "SECRET_IN_QUERY" not in output
    assert not [p for p in PERSONAL if p in output]
    assert "127.0.0.1:" not in " ".join(line["message"] for line in access)  # no client address


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG], ids=["info", "debug"])
def test_a_public_report_leaves_no_personal_data_in_the_log(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture, level: int
) -> None:
    engine.load([ROOT / "workflows"])
    app = create_app(engine, load_domain(settings.handlers))
    with caplog.at_level(level), TestClient(app) as client:
        filed = file(client)
        case_id = _case_of(engine)
        seen = client.get(f"/api/v1/cases/{case_id}")  # refused: no token
    assert filed.status_code == 200, filed.text
    assert seen.status_code == 401
    assert _workflow_of(engine, case_id) == "public_report"
    assert caplog.records, "nothing was logged: the test would prove nothing"
    json_lines, text = JsonLines(), logging.Formatter("%(name)s %(message)s %(args)s")
    for record in caplog.records:
        RequestFields().filter(record)
        for line in (json_lines.format(record), text.format(record)):
            assert not [p for p in PERSONAL if p in line], line


def _case_of(engine: Engine) -> int:
    with engine.store.read() as tx:
        [case_id] = tx.case_ids()
    return case_id


def _workflow_of(engine: Engine, case_id: int) -> str:
    with engine.store.read() as tx:
        case = tx.get_case(case_id)
    assert case is not None
    return case.workflow


def test_a_request_id_is_taken_when_sane_else_made(client: TestClient) -> None:
    sane = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:2.1@edge"})
    long = client.get("/healthz", headers={"X-Request-ID": "x" * 129})
    odd = client.get("/healthz", headers={"X-Request-ID": "a b<script>"})
    none = client.get("/healthz")
    assert sane.headers["x-request-id"] == "lb-7f3a:2.1@edge"
    made = [r.headers["x-request-id"] for r in (long, odd, none)]
    assert all(len(m) == 32 and int(m, 16) >= 0 for m in made)
    assert len(set(made)) == 3


def _record(message: str, *args: Any, name: str = "engine.test") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)


def test_json_lines_outside_a_request_and_with_a_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record("sweep: timer %s failed", 7)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "sweep: timer 7 failed"
    assert line["logger"] == "engine.test"
    assert line["level"] == "INFO"
    assert line["request_id"] is None
    assert line["route"] is None
    assert "RuntimeError: boom" in line["exception"]
    assert line["time"].endswith("Z")


def test_both_formats_mask_tokens_in_the_access_line() -> None:
    for fmt in ("text", "json"):
        config = log_config(fmt)
        assert config["loggers"]["uvicorn.access"]["filters"] == ["hide_query_tokens"]
        assert config["root"]["handlers"] == ["lines"]
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/v1/cases?api_key=qlt_X",
        "1.1",
        401,
        name="uvicorn.access",
    )
    HideQueryTokens().filter(record)
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "GET /api/v1/cases?api_key=*** HTTP/1.1 401"
    with pytest.raises(ValueError, match="use text or json"):
        log_config("xml")


def test_the_log_format_setting_and_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "settings.yaml").write_text("log_format: json\n", encoding="utf-8")
    monkeypatch.delenv("QINGLIU_LOG_FORMAT", raising=False)
    assert load_settings(tmp_path).log_format == "json"
    monkeypatch.setenv("QINGLIU_LOG_FORMAT", "text")
    assert load_settings(tmp_path).log_format == "text"
    assert load_settings(tmp_path / "nowhere").log_format == "text"


def test_serve_refuses_an_unknown_log_format(database_url: str) -> None:
    env = {
        "QINGLIU_DATABASE_URL": database_url,
        "QINGLIU_CONFIG": str(ROOT / "config"),
        "QINGLIU_LOG_FORMAT": "xml",
    }
    given = CliRunner(env=env).invoke(cli, ["serve", "--log-format", "yaml"])
    assert given.exit_code == 2
    configured = CliRunner(env=env).invoke(cli, ["serve", "--no-scheduler"])
    assert configured.exit_code == 9  # a ConfigError
    assert "log_format 'xml' is not a log format: use text or json" in configured.output
    scheduler = CliRunner(env=env).invoke(cli, ["scheduler"])
    assert scheduler.exit_code == 9


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/r/K7QM-2XRD", "/r/***"),
        ("/r/K7QM-2XRD?x=1", "/r/***?***"),
        ("/r?code=QL-7K3M-9PXA", "/r?***"),
        ("/report", "/report"),
        ("/report/attachments", "/report/attachments"),
    ],
)
def test_a_public_reporter_is_neither_named_by_address_nor_by_receipt(
    path: str, shown: str
) -> None:
    """A 随手拍 reporter's address next to the report (POST /report) or next to its receipt
    (GET /r/{receipt}) would tie the person to the report: the access line shows neither."""
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.7:5000",
        "GET",
        path,
        "1.1",
        200,
        name="uvicorn.access",
    )
    HideQueryTokens().filter(record)
    assert record.args is not None
    assert record.args[0] == "-"
    assert record.args[2] == shown
    assert "203.0.113.7" not in record.getMessage()


def test_other_access_lines_keep_the_client_address() -> None:
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "10.0.0.5:5000",
        "GET",
        "/api/v1/cases",
        "1.1",
        200,
        name="uvicorn.access",
    )
    HideQueryTokens().filter(record)
    assert record.args is not None
    assert record.args[0] == "10.0.0.5:5000"
