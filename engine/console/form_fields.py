"""The inputs of a generated form (``engine.console.forms``): one ``Field`` per value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Choice", "Field"]


@dataclass(frozen=True)
class Choice:
    value: str  # the option's token in the form
    title: str
    raw: Any = None  # the JSON value it stands for


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    # text textarea integer number date datetime checkbox select multi lines group rows fixed
    # file files (format: attachment: one upload, or an array of them)
    kind: str
    required: bool = False
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    children: tuple[Field, ...] = ()  # a group's fields; for rows, one row's fields (template)
    fixed: Any = None
    min_rows: int = 0
    accept: tuple[str, ...] = ()  # a file input's media types
