"""The fields a caller may not set: those the definition's handlers own (``readOnly``) and, in
a merged payload, those the transition's ``when`` judged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition.model import Definition
from engine.errors import FieldError

__all__ = ["judged", "owned"]


def owned(d: Definition, given: Mapping[str, Any]) -> list[FieldError]:
    """The fields of ``given`` that the definition's handlers own (``readOnly``)."""
    return [
        FieldError(f"$.{name}", f"{name!r} is set by the workflow, not by the caller (readOnly)")
        for name in sorted(d.read_only.intersection(given))
    ]


def judged(judged: frozenset[str], given: Mapping[str, Any]) -> list[FieldError]:
    """The fields of a merged ``given`` that the transition's ``when`` judged."""
    return [
        FieldError(f"$.{name}", f"{name!r} is what this transition's when judges: not settable")
        for name in sorted(judged.intersection(given))
    ]
