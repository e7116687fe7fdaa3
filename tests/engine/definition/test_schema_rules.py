"""Embedded schemas are self-contained with patterns RE2 can run; timers read real dates."""

from __future__ import annotations

import pytest

from engine.definition.validate import check_definition
from engine.handlers import Registry
from tests.engine.definition.test_validate import MINIMAL


def _problems(text: str, stored: bool = False) -> list[str]:
    _, problems = check_definition(text, "x.yaml", Registry(), stored)
    return [f"{p.line}:{p.column}: {p.message}" for p in problems]


def _with_data_schema(properties: str) -> str:
    return MINIMAL + f"data_schema:\n  type: object\n  properties:\n{properties}"


LOCAL = """\
    kind: {$ref: "#/$defs/kind"}
  $defs:
    kind: {enum: [a, b]}
"""


def test_local_refs_are_allowed() -> None:
    assert _problems(_with_data_schema(LOCAL)) == []


@pytest.mark.parametrize(
    "ref",
    ["https://schemas.example/kind.json", "http://10.0.0.1/k", "file:///etc/passwd", "kind.json"],
)
def test_a_ref_that_is_not_local_is_a_definition_error(ref: str) -> None:
    text = _with_data_schema(f"    kind: {{$ref: '{ref}'}}\n")
    assert _problems(text) == [
        f"16:18: $ref {ref!r} is not local: a definition's schemas are self-contained "
        "(write '#/$defs/name'; nothing is fetched)"
    ]


def test_refs_are_found_anywhere_in_payload_schemas_and_ids_are_refused() -> None:
    text = MINIMAL + (
        "    payload_schema:\n"
        "      properties:\n"
        "        a: {items: {anyOf: [{$ref: 'https://x.example/a'}]}}\n"
        "        $ref: {type: string}\n"  # a property that happens to be called $ref
        "      $id: https://x.example/root\n"
    )
    assert _problems(text) == [
        "15:36: $ref 'https://x.example/a' is not local: a definition's schemas are "
        "self-contained (write '#/$defs/name'; nothing is fetched)",
        "17:12: $id is not allowed: a definition's schemas are self-contained",
    ]


def test_patterns_re2_cannot_run_are_flagged_with_their_line() -> None:
    text = _with_data_schema(
        "    code: {type: string, pattern: '^(?!x)[a-z]+$'}\n"
        "    tags:\n"
        "      patternProperties:\n"
        "        '(a)\\1': {}\n"
        "    fine: {type: string, pattern: '^(a+)+$'}\n"  # RE2 runs it in linear time
    )
    problems = _problems(text)
    assert [p.split(": ")[0] for p in problems] == ["16:35", "19:9"]
    assert "pattern '^(?!x)[a-z]+$' cannot be used: invalid perl operator: (?!" in problems[0]
    assert "no backreferences, no lookahead or lookbehind" in problems[0]
    assert "pattern '(a)\\\\1' cannot be used: invalid escape sequence" in problems[1]


def test_unevaluated_properties_beside_pattern_properties_is_refused() -> None:
    text = _with_data_schema(
        "    a: {type: string}\n  patternProperties: {'^x_': {}}\n  unevaluatedProperties: false\n"
    )
    assert _problems(text) == [
        "14:3: unevaluatedProperties cannot be used with patternProperties in one schema"
    ]


TIMED = MINIMAL + "timers:\n  a:\n    - fires: go\n      at: {data: due}\n"


@pytest.mark.parametrize(
    ("declared", "why"),
    [
        ("    due: {type: string}\n", "has no date format"),
        ("    due: {type: string, pattern: '^[0-9-]+$'}\n", "has no date format"),
        ("    other: {type: string}\n", "is not in data_schema.properties"),
    ],
)
def test_a_field_a_timer_reads_must_be_declared_a_date(declared: str, why: str) -> None:
    text = TIMED + f"data_schema:\n  properties:\n{declared}"
    assert _problems(text) == [
        f"16:18: the timer reads data field 'due', which {why}: declare it with "
        "format: date or format: date-time"
    ]
    # a version published before the rule is compiled again for its cases as it was
    assert _problems(text, stored=True) == []


@pytest.mark.parametrize("fmt", ["date", "date-time"])
def test_a_declared_date_field_is_clean(fmt: str) -> None:
    text = TIMED + f"data_schema:\n  properties:\n    due: {{type: string, format: {fmt}}}\n"
    assert _problems(text) == []


def test_a_deadline_reading_data_needs_a_date_field_too() -> None:
    text = MINIMAL + (
        "deadlines:\n  limit:\n    starts_in: a\n    runs_until: b\n"
        "    at: {data: until}\n    fires: go\n"
    )
    assert _problems(text) == [
        "17:16: the timer reads data field 'until', which is not in data_schema.properties: "
        "declare it with format: date or format: date-time"
    ]


@pytest.mark.parametrize(
    ("literal", "clean"),
    [
        ("2025-02-30", False),
        ("2025-13-01", False),
        ("2025-02-28T25:00:00", False),
        ("2025-02-28", True),
        ("2025-02-28T18:00:00+08:00", True),
        ("2025-02-28T18:00:00Z", True),
    ],
)
def test_literal_at_dates_are_real_dates(literal: str, clean: bool) -> None:
    text = MINIMAL + f"timers:\n  a:\n    - fires: go\n      at: '{literal}'\n"
    expected = (
        [] if clean else [f"16:11: {literal!r} is not a real date (YYYY-MM-DD) or ISO datetime"]
    )
    assert _problems(text) == expected
