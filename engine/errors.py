"""The one error tree of Qingliu.

Every error the engine raises on purpose is a ``QingliuError``; the CLI maps them to exit codes
(``engine.cli``) and the HTTP API to statuses (``engine.api.problems``), each in one place.

    QingliuError
    ├── ConfigError                  settings or reference data in config/ are wrong
    ├── DefinitionError              a workflow definition is invalid (carries every Problem)
    └── CaseError                    something asked of a running case cannot be done
        ├── NotFound
        │   ├── WorkflowNotFound
        │   └── CaseNotFound
        ├── Forbidden                the actor's role or jurisdiction may not do this
        ├── InvalidInput             data or payload break their JSON Schema (JSON paths)
        ├── TriggerNotAllowed        the trigger cannot fire in this state (lists allowed ones)
        │   └── GuardFailed          it could, but its guards do not hold now
        ├── Conflict
        │   ├── StaleVersion         the case moved on since the version the caller read
        │   └── DuplicateOpenCase    one open case per subject, and one is open already
        └── HandlerFailed            a guard or action raised; the transition was rolled back
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CaseError",
    "CaseNotFound",
    "ConfigError",
    "Conflict",
    "DefinitionError",
    "DuplicateOpenCase",
    "FieldError",
    "Forbidden",
    "GuardFailed",
    "HandlerFailed",
    "InvalidInput",
    "NotFound",
    "Problem",
    "QingliuError",
    "StaleVersion",
    "TriggerNotAllowed",
    "WorkflowNotFound",
]


@dataclass(frozen=True)
class Problem:
    """One fault in a definition file, pointing at the offending YAML node."""

    path: str
    line: int
    column: int
    message: str
    json_path: str = "$"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class FieldError:
    """One JSON Schema violation in caller input, with its JSON path (``$.a.b[0]``)."""

    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


class QingliuError(Exception):
    """Root of every error Qingliu raises on purpose."""


class ConfigError(QingliuError):
    """Settings or reference data are wrong."""


class DefinitionError(QingliuError):
    """A definition failed to load; ``problems`` lists every fault found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in definition:\n{lines}")


class CaseError(QingliuError):
    """Something asked of a case or workflow cannot be done."""


class NotFound(CaseError):
    pass


class WorkflowNotFound(NotFound):
    def __init__(self, name: str, version: int | None = None) -> None:
        self.name = name
        self.version = version
        what = f"workflow {name!r}" + (f" version {version}" if version is not None else "")
        super().__init__(f"{what} not found")


class CaseNotFound(NotFound):
    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id} not found")


class Forbidden(CaseError):
    def __init__(self, message: str, *, role: str, trigger: str | None = None) -> None:
        self.role = role
        self.trigger = trigger
        super().__init__(message)


class InvalidInput(CaseError):
    """``what`` is ``data`` or ``payload``; ``errors`` carry JSON paths."""

    def __init__(self, what: str, errors: Sequence[FieldError]) -> None:
        self.what = what
        self.errors = list(errors)
        detail = "; ".join(str(e) for e in self.errors)
        super().__init__(f"invalid {what}: {detail}")


class TriggerNotAllowed(CaseError):
    def __init__(
        self, case_id: int, trigger: str, state: str, allowed: Sequence[str], reason: str = ""
    ) -> None:
        self.case_id = case_id
        self.trigger = trigger
        self.state = state
        self.allowed = list(allowed)
        why = reason or f"trigger {trigger!r} is not allowed in state {state!r}"
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(f"case {case_id}: {why}; allowed now: {allowed_text}")


class GuardFailed(TriggerNotAllowed):
    def __init__(
        self, case_id: int, trigger: str, state: str, allowed: Sequence[str], guards: Sequence[str]
    ) -> None:
        self.guards = list(guards)
        reason = f"trigger {trigger!r} refused by guard(s) {', '.join(self.guards)}"
        super().__init__(case_id, trigger, state, allowed, reason)


class Conflict(CaseError):
    pass


class StaleVersion(Conflict):
    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {case_id} is at version {actual}, not {expected}: read it again and retry"
        )


class DuplicateOpenCase(Conflict):
    def __init__(self, workflow: str, subject: str, existing_id: int) -> None:
        self.workflow = workflow
        self.subject = subject
        self.existing_id = existing_id
        super().__init__(
            f"workflow {workflow!r} already has open case {existing_id} for subject {subject!r}"
        )


class HandlerFailed(CaseError):
    def __init__(self, handler: str, case_id: int | None, cause: BaseException) -> None:
        self.handler = handler
        self.case_id = case_id
        self.cause = cause
        where = f" on case {case_id}" if case_id is not None else ""
        super().__init__(
            f"handler {handler!r} failed{where}: {type(cause).__name__}: {cause}; "
            "nothing was changed"
        )
