"""The one error tree of Qingliu.

Every error Qingliu raises on purpose is a ``QingliuError``, and every class of the tree says,
in its own body, how it reaches people: its HTTP ``status``, its problem ``kind`` (the last
segment of the RFC 9457 ``type`` URI), a fixed ``title`` and the CLI ``exit_code`` (as click's
exceptions carry theirs). ``engine.api.problems`` and ``engine.cli`` read those attributes and
nothing else, and ``tests/engine/test_errors.py`` walks every subclass (the domain's too) and
fails when one does not declare all four itself.

    class                          status  kind                  exit
    QingliuError                     500   internal-error          8   (root; never raised)
    ├── ConfigError                  500   configuration-error     9   settings or reference data
    ├── DefinitionError              422   invalid-definition      1   carries every Problem
    ├── AuditFailed                  500   audit-failed            1   in engine/audit.py
    ├── BackupRefused                422   backup-refused          1   in engine/backup.py
    ├── TokenError                   422   token-refused           2   token create/rotate/revoke
    ├── Unavailable                  503   unavailable            10   in engine/store/faults.py
    │   └── UploadsBusy              503   uploads-busy           10   in engine/api/spool.py
    ├── RequestError                 400   malformed-request       2   the HTTP request itself
    │   ├── Unauthorized             401   unauthorized            4
    │   ├── InvalidRequest           422   invalid-request         2   query, headers, body shape
    │   ├── PayloadTooLarge          413   payload-too-large       2
    │   │   └── TooLarge             413   file-too-large          2   in engine/blobs/errors.py
    │   ├── UnsupportedMedia         415   unsupported-media-type  2   in engine/blobs/errors.py
    │   └── TooManyRequests          429   too-many-requests       4   failed logins (api/auth.py)
    └── CaseError                    409   case-error              5   asked of a workflow or case
        ├── NotFound                 404   not-found               3
        │   ├── WorkflowNotFound     404   workflow-not-found      3
        │   └── CaseNotFound         404   case-not-found          3
        ├── Forbidden                403   forbidden               4   role or jurisdiction
        ├── InvalidInput             422   invalid-input           7   JSON paths into the input
        ├── TriggerNotAllowed        409   trigger-not-allowed     5   lists the allowed triggers
        │   └── GuardFailed          409   guard-failed            5   names the guards
        ├── Conflict                 409   conflict                6
        │   ├── StaleVersion         412   stale-version           6
        │   ├── DuplicateOpenCase    409   duplicate-open-case     6
        │   ├── MigrationRefused     409   migration-refused       6   in engine/migration_plan.py
        │   └── IdempotencyKeyReused 422   idempotency-key-reused  6
        ├── Refused                  409   refused                 5   a handler refused: the world
        │   └── InputRefused         422   invalid-input           7   ... or the input (JSON paths)
        └── HandlerFailed            500   handler-failed          8   a bug in a guard or action

Refusals and bugs are different errors: a guard or action that refuses because of the caller's
input or the state of the world raises ``Refused`` or ``InputRefused`` (passed through to the
caller as 409 / 422); any other exception out of a handler is a bug, wrapped in
``HandlerFailed`` (500, the transition rolled back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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
    "IdempotencyKeyReused",
    "InputRefused",
    "InvalidInput",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "QingliuError",
    "Refused",
    "RequestError",
    "StaleVersion",
    "TokenError",
    "TriggerNotAllowed",
    "Unauthorized",
    "WorkflowNotFound",
    "definition_errors",
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
    """One fault in caller input, with its JSON path (``$.a.b[0]``) into ``where`` (the
    request's ``body``, ``query``, ``header`` or ``path``)."""

    json_path: str
    message: str
    where: str = "body"

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


class QingliuError(Exception):
    """Root of every error Qingliu raises on purpose. Subclasses declare the four below."""

    status: ClassVar[int] = 500
    kind: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    exit_code: ClassVar[int] = 8

    def extensions(self) -> dict[str, Any]:
        """Extension members of the problem document (``errors``, ``allowed_triggers`` ...)."""
        return {}

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (``WWW-Authenticate`` for a 401)."""
        return {}


class ConfigError(QingliuError):
    """Settings or reference data are wrong."""

    status, kind, exit_code = 500, "configuration-error", 9
    title = "The server is misconfigured"


class DefinitionError(QingliuError):
    """A definition failed to load; ``problems`` lists every fault found, in file order."""

    status, kind, exit_code = 422, "invalid-definition", 1
    title = "The definition is not valid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in definition:\n{lines}")

    def extensions(self) -> dict[str, Any]:
        return {"errors": definition_errors(self.problems)}


def definition_errors(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """Definition problems as the API lists them (``path`` is the JSON path in the YAML)."""
    return [
        {
            "line": p.line,
            "column": p.column,
            "path": p.json_path,
            "json_path": p.json_path,
            "message": p.message,
        }
        for p in problems
    ]


class TokenError(QingliuError):
    """A token cannot be created or revoked as asked (the message says why)."""

    status, kind, exit_code = 422, "token-refused", 2
    title = "The token cannot be created or revoked as asked"


# -- the HTTP request itself ------------------------------------------------------------------


class RequestError(QingliuError):
    """The request is malformed: bad JSON, a bad header; ``errors`` point into it."""

    status, kind, exit_code = 400, "malformed-request", 2
    title = "The request is malformed"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        self.errors = list(errors)
        super().__init__(detail)

    def extensions(self) -> dict[str, Any]:
        if not self.errors:
            return {}
        return {
            "errors": [
                {"in": e.where, "json_path": e.json_path, "message": e.message} for e in self.errors
            ]
        }


class Unauthorized(RequestError):
    status, kind, exit_code = 401, "unauthorized", 4
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InvalidRequest(RequestError):
    """The request breaks the API's own schema (a query parameter, a missing body)."""

    status, kind, exit_code = 422, "invalid-request", 2
    title = "The request breaks the API schema"


class PayloadTooLarge(RequestError):
    status, kind, exit_code = 413, "payload-too-large", 2
    title = "The request body is too large"


# -- workflows and cases ----------------------------------------------------------------------


class CaseError(QingliuError):
    """Something asked of a workflow or case cannot be done."""

    status, kind, exit_code = 409, "case-error", 5
    title = "The request cannot be done"


class NotFound(CaseError):
    status, kind, exit_code = 404, "not-found", 3
    title = "Not found"


class WorkflowNotFound(NotFound):
    status, kind, exit_code = 404, "workflow-not-found", 3
    title = "No such workflow"

    def __init__(self, name: str, version: int | None = None) -> None:
        self.name = name
        self.version = version
        what = f"workflow {name!r}" + (f" version {version}" if version is not None else "")
        super().__init__(f"{what} not found")


class CaseNotFound(NotFound):
    status, kind, exit_code = 404, "case-not-found", 3
    title = "No such case"

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id} not found")


class Forbidden(CaseError):
    status, kind, exit_code = 403, "forbidden", 4
    title = "Your role or jurisdiction may not do this"

    def __init__(self, message: str, *, role: str, trigger: str | None = None) -> None:
        self.role = role
        self.trigger = trigger
        super().__init__(message)


class InvalidInput(CaseError):
    """``what`` is ``data``, ``payload`` (or empty: the body is the object itself, e.g. an
    outfall record); ``errors`` carry JSON paths into it."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "The data or payload break their schema"

    def __init__(self, what: str, errors: Sequence[FieldError]) -> None:
        self.what = what
        self.errors = list(errors)
        detail = "; ".join(str(e) for e in self.errors)
        super().__init__(f"invalid {what}: {detail}" if what else f"invalid input: {detail}")

    def extensions(self) -> dict[str, Any]:
        """``$.x`` in the data becomes ``$.data.x``: paths point into the request body."""
        root = "$." + self.what if self.what else "$"
        return {
            "errors": [
                {"in": "body", "json_path": root + e.json_path[1:], "message": e.message}
                for e in self.errors
            ]
        }


class TriggerNotAllowed(CaseError):
    status, kind, exit_code = 409, "trigger-not-allowed", 5
    title = "The trigger is not allowed now"

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

    def extensions(self) -> dict[str, Any]:
        return {"allowed_triggers": self.allowed}


class GuardFailed(TriggerNotAllowed):
    status, kind, exit_code = 409, "guard-failed", 5
    title = "The trigger's conditions do not hold now"

    def __init__(
        self, case_id: int, trigger: str, state: str, allowed: Sequence[str], guards: Sequence[str]
    ) -> None:
        self.guards = list(guards)
        reason = f"trigger {trigger!r} refused by guard(s) {', '.join(self.guards)}"
        super().__init__(case_id, trigger, state, allowed, reason)

    def extensions(self) -> dict[str, Any]:
        return {"allowed_triggers": self.allowed, "guards": self.guards}


class Conflict(CaseError):
    status, kind, exit_code = 409, "conflict", 6
    title = "Conflict"


class StaleVersion(Conflict):
    status, kind, exit_code = 412, "stale-version", 6
    title = "The case has moved on since you read it"

    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {case_id} is at version {actual}, not {expected}: read it again and retry"
        )

    def extensions(self) -> dict[str, Any]:
        return {"current_version": self.actual}


class DuplicateOpenCase(Conflict):
    status, kind, exit_code = 409, "duplicate-open-case", 6
    title = "A case for this subject is open already"

    def __init__(self, workflow: str, subject: str, existing_id: int | None) -> None:
        """``existing_id`` is None when the caller may not read the open case: it is not
        named, so a conflict never reveals a case the caller cannot see."""
        self.workflow = workflow
        self.subject = subject
        self.existing_id = existing_id
        which = f"open case {existing_id}" if existing_id is not None else "an open case"
        super().__init__(f"workflow {workflow!r} already has {which} for subject {subject!r}")

    def extensions(self) -> dict[str, Any]:
        return {} if self.existing_id is None else {"existing_case_id": self.existing_id}


class IdempotencyKeyReused(Conflict):
    status, kind, exit_code = 422, "idempotency-key-reused", 6
    title = "The Idempotency-Key was used for a different request"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"key {key!r} was first sent with another case, trigger or payload")


class Refused(CaseError):
    """A guard or action refused on purpose: the state of the world does not allow what was
    asked (the message says why, in words the caller can act on)."""

    status, kind, exit_code = 409, "refused", 5
    title = "Refused by the rules of the workflow"


class InputRefused(Refused, InvalidInput):
    """A guard or action refused the caller's input: ``what`` (``payload`` or ``data``) and a
    JSON path into it for each fault, as for ``InvalidInput``."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "The data or payload are refused"

    @classmethod
    def at(cls, what: str, json_path: str, message: str) -> InputRefused:
        """One fault: ``InputRefused.at("payload", "$.department", "... is not a department")``."""
        return cls(what, [FieldError(json_path, message)])


class HandlerFailed(CaseError):
    """A guard or action raised something other than a refusal: a bug. Nothing was changed."""

    status, kind, exit_code = 500, "handler-failed", 8
    title = "A guard or action failed; nothing was changed"

    def __init__(self, handler: str, case_id: int | None, cause: BaseException) -> None:
        self.handler = handler
        self.case_id = case_id
        self.cause = cause
        where = f" on case {case_id}" if case_id is not None else ""
        super().__init__(
            f"handler {handler!r} failed{where}: {type(cause).__name__}: {cause}; "
            "nothing was changed"
        )
