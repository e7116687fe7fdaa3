"""Without the ``bench`` extra the benchmarks say what to install, not a traceback."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from typing import Any

import pytest

from bench import suite


@pytest.fixture
def no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """SpiffWorkflow and pyinstrument not installed, as on a fresh clone."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("SpiffWorkflow", "pyinstrument"):
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    for name in [n for n in sys.modules if n.split(".")[0] == "SpiffWorkflow"] + ["SpiffWorkflow"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    monkeypatch.delitem(sys.modules, "bench.spiff_contestant", raising=False)


def test_the_suite_names_the_extra(
    no_extra: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no benchmark runs without the extra")

    monkeypatch.setattr(subprocess, "run", no_run)
    assert suite.main(["--quick"]) == 2
    err = capsys.readouterr().err
    assert "SpiffWorkflow, pyinstrument not installed" in err
    assert "pip install -e '.[bench]'" in err
    assert "make bench" in err


def test_the_spiff_contestant_names_the_extra(no_extra: None) -> None:
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module("bench.spiff_contestant")
    assert "SpiffWorkflow not installed" in str(stopped.value)
    assert ".[bench]" in str(stopped.value)


@pytest.mark.parametrize(
    ("installed", "missing"),
    [
        ({"SpiffWorkflow", "pyinstrument"}, []),
        ({"SpiffWorkflow"}, ["pyinstrument"]),
        (set(), ["SpiffWorkflow", "pyinstrument"]),
    ],
)
def test_missing_names_exactly_the_modules_not_installed(
    monkeypatch: pytest.MonkeyPatch, installed: set[str], missing: list[str]
) -> None:
    """Whatever this machine has (CI installs the dev extra only): the answer follows what
    the import system finds."""

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return object() if name in installed else None

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert suite.missing() == missing
