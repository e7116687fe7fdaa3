"""Errors of a submitted form at their inputs: jsonschema's messages in Chinese (``worded``)
and each error at the input its JSON path names (``placed``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from engine.console.form_fields import Field
from engine.errors import FieldError

__all__ = ["placed", "worded"]

_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_WORDS = (
    ("is a required property", "必填"),
    ("is not one of", "请从选项中选择"),
    ("should be non-empty", "不能为空"),
    ("is too short", "不能为空或太短"),
    ("is too long", "太长"),
    ("is not of type", "类型不正确"),
    ("does not match", "格式不正确"),
    ("is not a 'date'", "日期格式不正确"),
    ("is not a 'date-time'", "日期时间格式不正确"),
    ("Additional properties", "含有不允许的字段"),
    ("less than the minimum", "数值过小"),
    ("greater than the maximum", "数值过大"),
    ("non-unique elements", "有重复项"),
    ("was expected", "与所选办理事项不符"),
)


def worded(message: str) -> str:
    """jsonschema's message in Chinese where it is one of the common ones."""
    for words, chinese in _WORDS:
        if words in message:
            return chinese
    return message


def _names(given: Iterable[Field]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for f in given:
        out[f.name] = f
        out.update(_names(f.children))
    return out


def _path_name(error: FieldError) -> str:
    path = error.json_path.lstrip("$").lstrip(".")
    required = _REQUIRED.match(error.message)
    if required:
        path = f"{path}.{required[1]}" if path else required[1]
    return path


def _parent(name: str) -> str:
    cut = max(name.rfind("."), name.rfind("["))
    return name[:cut] if cut > 0 else ""


def placed(
    given: Sequence[Field], errors: Sequence[FieldError]
) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Each error at its input's name (or its nearest enclosing input), and the summary:
    (label, message) for every error, the label empty when no input matches."""
    names = _names(given)
    at: dict[str, list[str]] = {}
    summary = []
    for error in errors:
        message = worded(error.message)
        name = _path_name(error)
        while name and name not in names:
            name = _parent(name)
        if name:
            at.setdefault(name, []).append(message)
        summary.append((names[name].label if name else "", message))
    return at, summary
