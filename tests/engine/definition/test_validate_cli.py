"""`qingliu validate` speaks as compilers do: the ok line on stdout, the problems on stderr."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.cli import cli
from tests.conftest import ROOT

BROKEN = ROOT / "tests" / "fixtures" / "broken"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QINGLIU_CONFIG", str(ROOT / "config"))
    return CliRunner()  # click >= 8.2 keeps stdout and stderr apart


def test_the_ok_line_goes_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(ROOT / "workflows" / "setup_approval.yaml")])
    assert result.exit_code == 0
    assert result.stdout == "ok: 1 definition(s)\n"
    assert result.stderr == ""


def test_problems_go_to_stderr_with_exit_code_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(BROKEN / "duplicate_keys.yaml")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{BROKEN}/duplicate_keys.yaml:5:1: duplicate key 'initial'",
        f"{BROKEN}/duplicate_keys.yaml:8:3: duplicate key 'a'",
    ]
