"""Qingliu's generic workflow engine: the public surface a domain package and an embedding
program use. Everything else in ``engine`` is its inside.

    from engine import Engine, Actor, Context, Registry, Domain, InputRefused

``engine.settings.build_engine`` assembles an ``Engine`` from ``config/``; the CLI
(``engine.cli``) and the HTTP API (``engine.api.app.create_app``) are its interfaces.
"""

from __future__ import annotations

from engine.clock import Clock, FakeClock, SystemClock
from engine.domain import Domain
from engine.errors import (
    CaseError,
    CaseNotFound,
    ConfigError,
    Conflict,
    DefinitionError,
    DuplicateOpenCase,
    FieldError,
    Forbidden,
    GuardFailed,
    HandlerFailed,
    IdempotencyKeyReused,
    InputRefused,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    Problem,
    QingliuError,
    Refused,
    RequestError,
    StaleVersion,
    TokenError,
    TriggerNotAllowed,
    Unauthorized,
    WorkflowNotFound,
)
from engine.handlers import Actor, CaseOps, Context, Registry
from engine.runtime import Engine
from engine.scope import Scope

__all__ = [
    "Actor",
    "CaseError",
    "CaseNotFound",
    "CaseOps",
    "Clock",
    "ConfigError",
    "Conflict",
    "Context",
    "DefinitionError",
    "Domain",
    "DuplicateOpenCase",
    "Engine",
    "FakeClock",
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
    "Registry",
    "RequestError",
    "Scope",
    "StaleVersion",
    "SystemClock",
    "TokenError",
    "TriggerNotAllowed",
    "Unauthorized",
    "WorkflowNotFound",
]
