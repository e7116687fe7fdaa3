"""Rows the store hands out: frozen dataclasses, one per table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DefinitionRow:
    id: int
    name: str
    version: int
    title: str
    source: str
    content_hash: str
    created_at: datetime
    origin: str | None = None  # "file" | "api"; None: published before revision 0006
    origin_ref: str | None = None  # the file's path, or the admin who published it


@dataclass(frozen=True)
class CaseRow:
    id: int
    definition_id: int
    workflow: str
    workflow_version: int
    state: str
    data: dict[str, Any]
    version: int
    subject: str | None
    jurisdiction: str | None
    is_open: bool
    last_hash: str
    created_at: datetime
    updated_at: datetime
    subject_unique: bool = True  # a business key among open cases (one_open_case_per_subject)


@dataclass(frozen=True)
class EventRow:
    id: int
    case_id: int
    seq: int
    kind: str
    trigger: str | None
    transition: int | None
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    jurisdiction: str | None
    payload: dict[str, Any]
    patch: dict[str, Any]
    at: datetime
    due_at: datetime | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class TimerRow:
    id: int
    case_id: int
    name: str
    trigger: str
    state: str | None
    deadline: str | None
    due_at: datetime
    status: str
    payload: dict[str, Any]
    catch_up: str
    every: str | None
    provisional: bool
    created_at: datetime
    fired_at: datetime | None
    base_at: datetime | None = None
    duration: str | None = None
    remaining_seconds: int | None = None
    remaining_working_days: int | None = None


LIVE_TIMER = ("pending", "paused")


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    role: str
    jurisdiction: str | None
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IdempotencyRow:
    id: int
    token_id: int
    key: str
    request_hash: str
    status: int
    body: Any
    created_at: datetime


@dataclass(frozen=True)
class SubjectRow:
    kind: str
    key: str
    jurisdiction: str | None
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
