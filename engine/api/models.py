"""Request and response bodies of the HTTP API (they are also the OpenAPI schema).

Response models allow extra members, so fields the engine adds later still reach clients;
request models forbid them, so a misspelt field is a 422, not silently ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "CaseCreate",
    "CaseList",
    "CaseOut",
    "EventOut",
    "History",
    "JsonObject",
    "PublishResult",
    "TransitionRequest",
    "ValidationResult",
    "WorkflowList",
    "WorkflowOut",
    "WorkflowSummary",
]

MAX_ID = 2**63 - 1


def _check_json(value: Any, path: str = "$") -> None:
    """Refuse what JSON storage cannot hold faithfully on every backend."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path}: numbers must be finite")
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path)
            _check_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise ValueError(f"{path}: text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path}: text must be valid Unicode (no lone surrogates)") from exc


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value)
    return value


def _plain_text(value: str) -> str:
    _check_text(value, "$")
    return value


def _json_value(value: Any) -> Any:
    _check_json(value)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
JsonValue = Annotated[Any, AfterValidator(_json_value)]
Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_plain_text)]
SubjectKey = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain_text)]


# -- requests --------------------------------------------------------------------------------


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: Name
    data: JsonObject = Field(default_factory=dict)
    subject: SubjectKey | None = None


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: Name
    payload: JsonObject = Field(default_factory=dict)


# -- responses -------------------------------------------------------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TimerOut(_Open):
    id: int
    name: str
    trigger: str
    state: str | None
    due_at: str | None = Field(description="null while paused: see `paused`")
    status: str = Field(description="pending, or paused (a deadline waiting in a pausing state)")
    paused: dict[str, int | None] | None = Field(
        default=None,
        description="while paused: remaining_working_days (a working-day deadline) or "
        "remaining_seconds; the due time is counted again when the case resumes",
    )


class CaseOut(_Open):
    id: int
    workflow: str
    workflow_version: int
    state: str
    state_title: str
    final: bool
    open: bool
    data: dict[str, Any]
    version: int
    subject: str | None
    jurisdiction: str | None
    created_at: str
    updated_at: str
    timers: list[TimerOut]
    available_triggers: list[str] | None = Field(
        default=None, description="triggers the caller may fire now"
    )


class CaseList(BaseModel):
    items: list[CaseOut]
    next: int | None = Field(description="pass as `after` for the next page; null at the end")


class EventOut(_Open):
    seq: int
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    jurisdiction: str | None
    payload: dict[str, Any]
    patch: dict[str, Any]
    at: str
    due_at: str | None
    hash: str


class History(BaseModel):
    case_id: int
    items: list[EventOut]


class WorkflowSummary(BaseModel):
    name: str
    version: int
    title: str
    created_at: str


class WorkflowList(BaseModel):
    items: list[WorkflowSummary]


class StateOut(_Open):
    name: str
    title: str
    final: bool


class TransitionOut(_Open):
    trigger: str
    source: list[str]
    dest: str | None
    roles: list[str]
    payload_schema: Any = None


class WorkflowOut(_Open):
    name: str
    version: int
    title: str
    data_schema: Any = None
    states: list[StateOut]
    transitions: list[TransitionOut]
    timers: dict[str, list[dict[str, Any]]]


class DefinitionProblem(BaseModel):
    line: int
    column: int
    path: str = Field(description="JSON path of the offending node in the YAML document")
    json_path: str
    message: str


class ValidationResult(BaseModel):
    valid: bool
    errors: list[DefinitionProblem]


class PublishResult(BaseModel):
    name: str
    version: int
    created: bool = Field(description="false: the text was already the latest version")
