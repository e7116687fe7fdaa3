"""The ``bench`` extra (pyproject.toml): the reference engines the benchmarks compare against,
and a profiler. Without it a benchmark says what to install instead of a traceback."""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRA_MODULES", "INSTALL", "missing", "missing_message"]

EXTRA_MODULES = ("SpiffWorkflow", "pyinstrument")
INSTALL = "make bench, or: .venv/bin/pip install -e '.[bench]'"


def missing() -> list[str]:
    """The modules of the extra that are not installed."""
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def missing_message(names: list[str] | str) -> str:
    shown = ", ".join([names] if isinstance(names, str) else names)
    return f"the benchmarks need the bench extra ({shown} not installed): {INSTALL}"
