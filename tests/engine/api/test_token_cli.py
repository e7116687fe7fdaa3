"""`qingliu token create|list|rotate|revoke` against the configured database, then over HTTP.

The commands run on the test's fake clock (the same one as the HTTP client's engine), so
expiry is driven by moving it, never by sleeping."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import click
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from uvicorn.logging import AccessFormatter

from engine.api import logs
from engine.cli import cli
from engine.cli import serve as serve_cli
from engine.clock import FakeClock
from engine.runtime import Engine
from engine.settings import build_engine, load_settings
from tests.conftest import ROOT
from tests.engine.api.helpers import problem


@pytest.fixture
def run(
    database_url: str, client: TestClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """A runner on the same database and fake clock as ``client`` (whose engine loaded the
    fixture)."""

    def configured_engine() -> Engine:
        engine = build_engine(load_settings(), clock=clock)
        click.get_current_context().call_on_close(engine.store.dispose)
        return engine

    monkeypatch.setattr(serve_cli, "configured_engine", configured_engine)
    return CliRunner(
        env={"QINGLIU_DATABASE_URL": database_url, "QINGLIU_CONFIG": str(ROOT / "config")}
    )


def _create(run: CliRunner, name: str, role: str, *more: str) -> str:
    result = run.invoke(cli, ["token", "create", "--name", name, "--role", role, *more])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _listed(run: CliRunner) -> list[list[str]]:
    listed = run.invoke(cli, ["token", "list"])
    assert listed.exit_code == 0, listed.output
    return [line.split("\t") for line in listed.stdout.splitlines()]


def test_create_prints_only_the_token_and_it_works(run: CliRunner, client: TestClient) -> None:
    result = run.invoke(
        cli,
        [
            "token",
            "create",
            "--name",
            "茌平区分局",
            "--role",
            "county_eeb",
            "--jurisdiction",
            "chiping",
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"qlt_[A-Za-z0-9_-]{43}\n", result.stdout)
    assert result.stderr == ""
    secret = result.stdout.strip()
    response = client.get("/api/v1/cases", headers=_bearer(secret))
    assert response.status_code == 200


def test_list_shows_tokens_but_never_their_secrets(run: CliRunner) -> None:
    secret = _create(run, "bureau", "eeb_city")
    listed = run.invoke(cli, ["token", "list"])
    assert listed.exit_code == 0
    [fields] = _listed(run)
    assert fields[1:4] == ["bureau", "eeb_city", "-"]
    assert fields[-1] == "active"
    assert secret not in listed.stdout
    assert secret[4:] not in listed.stdout


def test_a_token_expires_365_days_after_it_is_made_and_the_list_says_so(
    run: CliRunner, client: TestClient, clock: FakeClock
) -> None:
    made = clock.now()
    secret = _create(run, "bureau", "eeb_city")
    [fields] = _listed(run)
    assert fields[5] == (made + timedelta(days=365)).isoformat(timespec="seconds")
    assert fields[6] == "active"
    clock.advance(timedelta(days=365))
    [fields] = _listed(run)
    assert fields[6] == "expired"
    body = problem(client.get("/api/v1/cases", headers=_bearer(secret)), 401, "unauthorized")
    assert body["detail"] == "the token has expired"


def test_help_names_the_default_lifetime(run: CliRunner) -> None:
    result = run.invoke(cli, ["token", "create", "--help"])
    assert "365 days" in result.stdout
    assert "[default: 365d]" in result.stdout


def test_expires_takes_days_a_date_or_never(run: CliRunner, clock: FakeClock) -> None:
    _create(run, "ninety", "eeb_city", "--expires", "90d")
    _create(run, "dated", "eeb_city", "--expires", "2024-06-30")
    _create(run, "forever", "admin", "--expires", "never")
    rows = {fields[1]: fields for fields in _listed(run)}
    assert rows["ninety"][5] == (clock.now() + timedelta(days=90)).isoformat(timespec="seconds")
    assert rows["dated"][5] == "2024-06-30T16:00:00+00:00"  # the day's end in Asia/Shanghai
    assert rows["forever"][5] == "never"


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("yesterday", "give a number of days"),
        ("0d", "give a number of days"),
        ("2024-02-01", "not in the future"),
    ],
)
def test_a_bad_expiry_is_a_clear_error(run: CliRunner, expires: str, message: str) -> None:
    result = run.invoke(
        cli, ["token", "create", "--name", "x", "--role", "admin", "--expires", expires]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_rotate_prints_a_new_secret_and_the_old_one_stops_working(
    run: CliRunner, client: TestClient
) -> None:
    old = _create(run, "临清市分局", "county_eeb", "--jurisdiction", "linqing")
    [(old_id, *_)] = _listed(run)
    rotated = run.invoke(cli, ["token", "rotate", old_id, "--expires", "30d"])
    assert rotated.exit_code == 0, rotated.output
    assert re.fullmatch(r"qlt_[A-Za-z0-9_-]{43}\n", rotated.stdout)
    new = rotated.stdout.strip()
    assert new != old
    problem(client.get("/api/v1/cases", headers=_bearer(old)), 401, "unauthorized")
    assert client.get("/api/v1/cases", headers=_bearer(new)).status_code == 200
    first, second = _listed(run)
    assert first[1] == f"临清市分局 [rotated #{old_id}]"
    assert first[6].startswith("revoked ")
    assert second[1:4] == ["临清市分局", "county_eeb", "linqing"]
    assert second[6] == "active"
    assert f"it is now token {second[0]}" in rotated.stderr


def test_revoke_takes_an_id_never_a_name(run: CliRunner, client: TestClient) -> None:
    secret = _create(run, "7", "admin")
    result = run.invoke(cli, ["token", "revoke", "7"])
    assert result.exit_code == 2
    assert "no token has id 7" in result.stderr
    assert client.get("/api/v1/workflows", headers=_bearer(secret)).status_code == 200
    by_name = run.invoke(cli, ["token", "revoke", "--name", "7"])
    assert by_name.exit_code == 0, by_name.output
    assert "revoked token 1 (7)" in by_name.stderr
    problem(client.get("/api/v1/workflows", headers=_bearer(secret)), 401, "unauthorized")


def test_revoke_by_name_then_requests_get_401(run: CliRunner, client: TestClient) -> None:
    secret = _create(run, "temp", "admin")
    headers = _bearer(secret)
    assert client.get("/api/v1/workflows", headers=headers).status_code == 200
    revoked = run.invoke(cli, ["token", "revoke", "--name", "temp"])
    assert revoked.exit_code == 0
    assert "revoked token" in revoked.stderr
    problem(client.get("/api/v1/workflows", headers=headers), 401, "unauthorized")
    [fields] = _listed(run)
    assert fields[1] == "temp [revoked #1]"
    assert fields[6].startswith("revoked ")
    _create(run, "temp", "admin")  # the name is free again


def test_revoke_by_id(run: CliRunner) -> None:
    _create(run, "by-id", "applicant", "--jurisdiction", "chiping")
    [(token_id, *_)] = _listed(run)
    assert run.invoke(cli, ["token", "revoke", token_id]).exit_code == 0
    again = run.invoke(cli, ["token", "revoke", token_id])
    assert again.exit_code == 2
    assert "revoked already" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--role", "wizard"], "unknown role 'wizard'"),
        (["--name", "x", "--role", "system"], "reserved"),
        (["--name", "x", "--role", "county_eeb", "--jurisdiction", "mars"], "unknown jurisdiction"),
        (["--role", "admin"], "Missing option '--name'"),
        (["--name", "a\tb", "--role", "admin"], "no tabs, newlines"),
        (["--name", "a\nb", "--role", "admin"], "no tabs, newlines"),
        (["--name", " padded", "--role", "admin"], "without leading or trailing spaces"),
        (["--name", "x", "--role", "county_eeb"], "give the token one (--jurisdiction CODE)"),
        (["--name", "x", "--role", "public"], "role 'public' (party level) acts inside one"),
    ],
)
def test_bad_requests_are_clear_errors_and_print_no_token(
    run: CliRunner, args: list[str], message: str
) -> None:
    result = run.invoke(cli, ["token", "create", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revoke", "nobody"], "'nobody' is not a token id"),
        (["revoke", "nobody"], "qingliu token revoke --name 'nobody'"),
        (["revoke", "99"], "no token has id 99"),
        (["revoke", "9" * 30], "no token has id 999"),
        (["revoke", "--name", "nobody"], "no token is named 'nobody'"),
        (["revoke"], "give a token ID or --name NAME"),
        (["revoke", "1", "--name", "x"], "give a token ID or --name NAME"),
        (["rotate", "99"], "no token has id 99"),
        (["rotate", "x"], "'x' is not a token id"),
    ],
)
def test_an_unknown_token_is_a_clear_error(run: CliRunner, args: list[str], message: str) -> None:
    result = run.invoke(cli, ["token", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


# -- qingliu serve: the access log never shows a token ---------------------------------------


def _access_record(full_path: str) -> logging.LogRecord:
    """A record as uvicorn's HTTP protocols log a request (uvicorn/protocols/http/*_impl.py)."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:51234", "GET", full_path, "1.1", 422),
        None,
    )


@pytest.fixture
def access_filter(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The filter `qingliu serve` configures on ``uvicorn.access``, built from the logging
    configuration it hands uvicorn (as every worker process builds it)."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    env = {"QINGLIU_DATABASE_URL": database_url, "QINGLIU_CONFIG": str(ROOT / "config")}
    result = CliRunner(env=env).invoke(cli, ["serve", "--no-scheduler"])
    assert result.exit_code == 0, result.output
    config = seen["log_config"]
    [name] = config["loggers"]["uvicorn.access"]["filters"]
    module, _, attribute = config["filters"][name]["()"].rpartition(".")
    assert module == logs.__name__
    return getattr(logs, attribute)()


@pytest.mark.parametrize(
    ("full_path", "logged"),
    [
        ("/api/v1/cases?token=qlt_SECRET", "/api/v1/cases?token=***"),
        ("/api/v1/cases?limit=5&access_token=qlt_SECRET", "/api/v1/cases?limit=5&access_token=***"),
        ("/api/v1/cases?API_KEY=qlt_SECRET&x=1", "/api/v1/cases?API_KEY=***&x=1"),
        ("/api/v1/cases?%74oken=qlt_SECRET", "/api/v1/cases?%74oken=***"),
        ("/api/v1/cases?limit=5", "/api/v1/cases?limit=5"),
        ("/api/v1/cases", "/api/v1/cases"),
    ],
)
def test_serve_masks_tokens_in_the_access_log(
    access_filter: logging.Filter, full_path: str, logged: str
) -> None:
    record = _access_record(full_path)
    assert access_filter.filter(record) is True
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s').format(
        record
    )
    assert "SECRET" not in line
    assert line == f'127.0.0.1:51234 - "GET {logged} HTTP/1.1" 422 Unprocessable Entity'
    assert "SECRET" not in record.getMessage()
