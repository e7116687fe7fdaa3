"""`qingliu serve`: loads the workflows folder and serves the app (uvicorn's run is replaced by
a TestClient session, so no port is opened)."""

from __future__ import annotations

import importlib
from socket import IPPROTO_TCP, TCP_NODELAY
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from uvicorn.supervisors import Multiprocess

from engine.catalog import Catalog
from engine.cli import cli
from engine.domain import load_domain
from tests.conftest import ROOT


@pytest.mark.parametrize("scheduler", [True, False], ids=["with-sweep", "no-scheduler"])
def test_serve_loads_the_workflows_and_serves_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch, scheduler: bool
) -> None:
    env = {"QINGLIU_DATABASE_URL": database_url, "QINGLIU_CONFIG": str(ROOT / "config")}
    runner = CliRunner(env=env)
    token = runner.invoke(cli, ["token", "create", "--name", "ops", "--role", "admin"])
    assert token.exit_code == 0, token.output
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    seen: dict[str, Any] = {}

    def run(app: Any, host: str, port: int, **options: Any) -> None:
        seen.update(host=host, port=port)
        with TestClient(app) as client:
            seen["workflows"] = client.get("/api/v1/workflows", headers=headers).json()
            seen["paths"] = client.get("/openapi.json").json()["paths"]

    monkeypatch.setattr(uvicorn, "run", run)
    args = ["serve", "--host", "127.0.0.1", "--port", "8123"]
    result = runner.invoke(cli, args if scheduler else [*args, "--no-scheduler"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    names = {item["name"] for item in seen["workflows"]["items"]}
    shipped, problems = Catalog(load_domain("handlers").registry).check_files([ROOT / "workflows"])
    assert problems == []
    assert names == {d.name for d in shipped}
    assert all(f"{d.name} v1 (new version)" in result.stderr for d in shipped)
    assert "Qingliu on http://127.0.0.1:8123" in result.stderr
    assert "timer sweep not available" not in result.stderr
    assert "/api/v1/cases/{case_id}/transitions" in seen["paths"]


def test_serve_with_workers_hands_uvicorn_the_app_factory(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--workers N: uvicorn's process supervisor gets the import string of the factory that
    each worker calls, and a listening socket with Nagle's algorithm off; the factory builds
    the app on the configured database, serving what the parent loaded."""
    env = {"QINGLIU_DATABASE_URL": database_url, "QINGLIU_CONFIG": str(ROOT / "config")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner(env=env)
    token = runner.invoke(cli, ["token", "create", "--name", "ops", "--role", "admin"])
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    seen: dict[str, Any] = {}

    def supervise(self: Multiprocess) -> None:  # instead of spawning the worker processes
        listening = self.sockets[0]
        seen.update(config=self.config, nodelay=listening.getsockopt(IPPROTO_TCP, TCP_NODELAY))
        listening.close()

    monkeypatch.setattr(Multiprocess, "run", supervise)
    args = ["serve", "--workers", "2", "--no-scheduler", "--port", "0"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.app, config.factory, config.workers) == (
        "engine.api.app:app_from_settings",
        True,
        2,
    )
    assert seen["nodelay"] == 1
    module, name = config.app.split(":")
    app = getattr(importlib.import_module(module), name)()
    with TestClient(app) as client:
        listed = client.get("/api/v1/workflows", headers=headers).json()
    assert {item["name"] for item in listed["items"]} >= {"rectification", "escalation"}
