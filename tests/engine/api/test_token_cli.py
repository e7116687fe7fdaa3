"""`qingliu token create|list|revoke` against the configured database, then over HTTP."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine.cli import cli
from tests.conftest import ROOT
from tests.engine.api.helpers import problem


@pytest.fixture
def run(database_url: str, client: TestClient) -> CliRunner:
    """A runner on the same database as ``client`` (whose engine loaded the fixture)."""
    return CliRunner(
        env={"QINGLIU_DATABASE_URL": database_url, "QINGLIU_CONFIG": str(ROOT / "config")}
    )


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
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_list_shows_tokens_but_never_their_secrets(run: CliRunner) -> None:
    created = run.invoke(cli, ["token", "create", "--name", "bureau", "--role", "eeb_city"])
    secret = created.stdout.strip()
    listed = run.invoke(cli, ["token", "list"])
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    fields = line.split("\t")
    assert fields[1:4] == ["bureau", "eeb_city", "-"]
    assert fields[-1] == "active"
    assert secret not in listed.stdout
    assert secret[4:] not in listed.stdout


def test_revoke_by_name_then_requests_get_401(run: CliRunner, client: TestClient) -> None:
    secret = run.invoke(
        cli, ["token", "create", "--name", "temp", "--role", "admin"]
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/workflows", headers=headers).status_code == 200
    revoked = run.invoke(cli, ["token", "revoke", "temp"])
    assert revoked.exit_code == 0
    assert "revoked token" in revoked.stderr
    problem(client.get("/api/v1/workflows", headers=headers), 401, "unauthorized")
    listed = run.invoke(cli, ["token", "list"]).stdout
    assert "\trevoked " in listed


def test_revoke_by_id(run: CliRunner) -> None:
    run.invoke(cli, ["token", "create", "--name", "by-id", "--role", "applicant"])
    token_id = run.invoke(cli, ["token", "list"]).stdout.split("\t")[0]
    assert run.invoke(cli, ["token", "revoke", token_id]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--role", "wizard"], "unknown role 'wizard'"),
        (["--name", "x", "--role", "system"], "reserved"),
        (["--name", "x", "--role", "county_eeb", "--jurisdiction", "mars"], "unknown jurisdiction"),
        (["--role", "admin"], "Missing option '--name'"),
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


def test_revoking_an_unknown_token_is_a_clear_error(run: CliRunner) -> None:
    result = run.invoke(cli, ["token", "revoke", "nobody"])
    assert result.exit_code == 2
    assert "no token named or numbered 'nobody'" in result.stderr
