"""The simulator's two errors, classes of the one tree (``engine.errors``).

QingliuError
├── ScenarioInvalid   422  invalid-scenario  2   the scenario text is malformed (path:line:col)
└── ScenarioFailed    422  scenario-failed   1   an expectation did not hold (file:line:col)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.errors import Problem, QingliuError, definition_errors

__all__ = ["ScenarioFailed", "ScenarioInvalid"]


class ScenarioInvalid(QingliuError):
    """The scenario cannot be run: YAML or schema problems, each with its line and column."""

    status, kind, exit_code = 422, "invalid-scenario", 2
    title = "The scenario is not valid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in scenario:\n{lines}")

    def extensions(self) -> dict[str, Any]:
        return {"errors": definition_errors(self.problems)}


class ScenarioFailed(QingliuError):
    """The scenario ran and at least one expectation did not hold (``failures`` says which,
    each as ``file:line:col: expected ..., found ...``)."""

    status, kind, exit_code = 422, "scenario-failed", 1
    title = "The scenario's expectations did not hold"

    def __init__(self, source: str, failures: Sequence[str]) -> None:
        self.source = source
        self.failures = list(failures)
        lines = "\n".join(self.failures)
        super().__init__(f"{source}: {len(self.failures)} expectation(s) failed:\n{lines}")
