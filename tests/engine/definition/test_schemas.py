"""The validators built for embedded schemas: patterns on RE2, formats checked, nothing
fetched."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from referencing.exceptions import Unresolvable

from engine.definition.quickcheck import SchemaCheck
from engine.definition.schemas import pattern_error, search
from engine.errors import FieldError

EVIL = "^(a+)+$"
VALUE = "a" * 27 + "!"  # ~10 s for Python's backtracking re


def _within_a_hang_guard(check: SchemaCheck, instance: Any) -> list[FieldError]:
    started = time.perf_counter()
    errors = check.errors(instance)
    assert time.perf_counter() - started < 5, "a pattern blocked the worker"
    return errors


def test_a_catastrophic_pattern_is_matched_in_linear_time() -> None:
    check = SchemaCheck({"type": "string", "pattern": EVIL})
    assert check.quick is not None  # the quick predicate runs RE2 too
    assert _within_a_hang_guard(check, VALUE) == [
        FieldError("$", f"{VALUE!r} does not match {EVIL!r}")
    ]
    assert check.errors("aaaa") == []


def test_pattern_properties_keys_are_matched_in_linear_time() -> None:
    schema = {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}}
    closed = SchemaCheck({**schema, "additionalProperties": False})
    [error] = _within_a_hang_guard(closed, {VALUE: 1})
    assert error.message == f"{VALUE!r} does not match any of the regexes: {EVIL!r}"
    assert SchemaCheck(schema).errors({"aaa": "x"}) == [
        FieldError("$.aaa", "'x' is not of type 'integer'")
    ]
    assert closed.errors({"aaa": 1}) == []
    other = SchemaCheck({"properties": {"a": {}}, "additionalProperties": False})
    assert other.errors({"b": 1, "c": 2}) == [
        FieldError("$", "Additional properties are not allowed ('b', 'c' were unexpected)")
    ]


def test_patterns_re2_cannot_run_are_named() -> None:
    assert pattern_error(EVIL) is None
    assert pattern_error(r"^[一-龥]+$") is None
    assert "invalid escape sequence" in (pattern_error(r"(a)\1") or "")
    assert "invalid perl operator" in (pattern_error("(?=a)b") or "")
    assert search("merge|ban", "a ban")
    assert not search("^$", "x")


def test_patterns_mean_what_json_schema_says() -> None:
    r"""ECMA-262 as RE2 has it: ``$`` is the end of the text (Python's re also took the place
    before a final newline), ``\d`` is an ASCII digit; any text can be matched."""
    assert not search("^[0-9]+$", "12\n")
    assert not search(r"^\d$", "٣")
    assert search("^[一-龥]+$", "清流")
    assert search("x", "\ud800x")  # a lone surrogate, as JSON may carry one
    assert not search("^x$", "\ud800")


def test_nothing_is_fetched_for_a_ref_that_slipped_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetched: list[Any] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: fetched.append(a))
    for ref in ("https://schemas.example/outfall.json", "file:///etc/passwd", "other.json"):
        check = SchemaCheck({"$ref": ref})
        with pytest.raises(Unresolvable):
            check.errors({})
    assert fetched == []


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date", "2026-12-31", ["2026/12/31", "31.12.2026", "2025-02-30"]),
        ("date-time", "2026-12-31T10:00:00+08:00", ["2026-12-31 25:00", "2026-12-31"]),
        ("email", "hb@example.cn", ["not an address"]),
    ],
)
def test_formats_are_checked(fmt: str, good: str, bad: list[str]) -> None:
    check = SchemaCheck({"properties": {"d": {"type": "string", "format": fmt}}})
    assert check.errors({"d": good}) == []
    for value in bad:
        assert check.errors({"d": value}) == [FieldError("$.d", f"{value!r} is not a {fmt!r}")]
