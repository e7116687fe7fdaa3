"""Definition validation: every problem, one `path:line:col: message` line each."""

from __future__ import annotations

import pytest

from engine.catalog import Catalog
from engine.definition.model import Duration
from engine.definition.validate import check_definition, parse_definition
from engine.errors import DefinitionError
from engine.handlers import Registry
from handlers import flows
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"

EXPECTED = """\
bad_semantics.yaml:6:33: action 'no_such_action' is not in handlers/
bad_semantics.yaml:8:3: state 'island' cannot be reached from initial
bad_semantics.yaml:14:20: role 'wizard' is not declared in roles
bad_semantics.yaml:15:12: guard 'no_such_guard' is not in handlers/
bad_semantics.yaml:18:11: dest 'nowhere' is not a state of this workflow
bad_semantics.yaml:26:14: trigger name 'state' is reserved
bad_semantics.yaml:31:14: timer fires 'ghost', which no transition allows from state 'middle'
bad_semantics.yaml:33:3: timer state 'limbo' is not a state
bad_structure.yaml:1:7: 'Bad-Name' is not a valid name (lower-case letters, digits, _)
bad_structure.yaml:5:1: unknown key 'colour'
bad_structure.yaml:7:24: final must be true or false, not the string 'maybe'
bad_structure.yaml:12:12: roles must be a list, not the string 'clerk'
bad_yaml.yaml:5:1: YAML syntax: while parsing a flow mapping (from line 4:6): expected ',' or '}', \
but got '<stream end>'
dup_name.yaml:1:7: duplicate definition 'bad_semantics' (first in bad_semantics.yaml)
duplicate_keys.yaml:5:1: duplicate key 'initial'
duplicate_keys.yaml:8:3: duplicate key 'a'
"""


def test_broken_folder_reports_every_problem_in_order() -> None:
    _, problems = Catalog(flows.registry()).check_files([BROKEN])
    lines = [str(p).replace(f"{BROKEN}/", "") for p in problems]
    assert lines == EXPECTED.splitlines()


MINIMAL = """\
name: tiny
title: 小流程
roles: [clerk]
initial: a
states:
  a: {title: A}
  b: {title: B, final: true}
transitions:
  - trigger: go
    source: a
    dest: b
    roles: [clerk]
"""


def _problems(text: str) -> list[str]:
    _, problems = check_definition(text, "x.yaml", Registry())
    return [f"{p.line}:{p.column}: {p.message}" for p in problems]


def test_minimal_definition_is_clean_and_frozen() -> None:
    d = parse_definition(MINIMAL, "x.yaml", Registry())
    assert d.name == "tiny"
    assert d.transitions[0].sources == ("a",)
    assert len(d.content_hash) == 64
    with pytest.raises(AttributeError):
        d.name = "other"  # type: ignore[misc]


def test_dead_end_state_is_reported() -> None:
    text = MINIMAL.replace(
        "  b: {title: B, final: true}", "  b: {title: B}\n  c: {title: C, final: true}"
    )
    assert _problems(text) == [
        "7:3: state 'b' is not final and has no transition out",
        "8:3: state 'c' cannot be reached from initial",
    ]


def test_shadowed_transition_is_reported() -> None:
    text = MINIMAL + "  - trigger: go\n    source: a\n    dest: a\n    roles: [clerk]\n"
    assert _problems(text) == [
        "13:14: trigger 'go' from 'a' can never be taken: "
        "transitions[0] comes first, has no guard, no when and no stricter payload_schema, "
        "and admits every role it admits"
    ]


def test_invalid_embedded_json_schema_is_reported_at_its_node() -> None:
    text = MINIMAL + "    payload_schema: {type: objekt}\n"
    assert _problems(text) == [
        "13:28: invalid JSON Schema: type 'objekt' is not a JSON type "
        "(array, boolean, integer, null, number, object, string)"
    ]


def test_timer_needs_exactly_one_kind() -> None:
    text = MINIMAL + "timers:\n  a:\n    - fires: go\n      after: 3 days\n      every: 1 days\n"
    assert _problems(text) == ["15:7: a timer needs exactly one of after, at, every"]


def test_bad_duration_is_explained() -> None:
    text = MINIMAL + "timers:\n  a:\n    - fires: go\n      after: soon\n"
    assert _problems(text) == [
        "16:14: 'soon' is not a duration: write e.g. '20 working days', '3 days'"
    ]


def test_internal_transition_with_dest_is_reported() -> None:
    text = MINIMAL + "  - trigger: poke\n    source: a\n    internal: true\n    dest: b\n"
    assert _problems(text) == ["16:11: an internal transition has no dest"]


def test_parse_raises_with_all_problems() -> None:
    text = MINIMAL.replace("dest: b", "dest: zz").replace(
        "    roles: [clerk]", "    roles: [ghost]"
    )
    with pytest.raises(DefinitionError) as info:
        parse_definition(text, "x.yaml", Registry())
    messages = [p.message for p in info.value.problems]
    assert "dest 'zz' is not a state of this workflow" in messages
    assert "role 'ghost' is not declared in roles" in messages
    assert str(info.value).startswith(f"{len(messages)} problem(s) in definition:\nx.yaml:")


def test_shipped_workflows_are_clean() -> None:
    root = FIXTURES.parent.parent / "workflows"
    definitions, problems = Catalog(flows.registry()).check_files([root])
    assert problems == []
    assert definitions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20 working days", Duration(20, "working_days")),
        ("1 working day", Duration(1, "working_days")),
        ("3 days", Duration(3, "days")),
        ("6 months", Duration(6, "months")),
        ("12 hours", Duration(12, "hours")),
        ("2 weeks", Duration(2, "weeks")),
        ("30 minutes", Duration(30, "minutes")),
    ],
)
def test_durations_parse(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


def test_bad_duration_says_how_to_write_one() -> None:
    with pytest.raises(ValueError, match="write e.g. '20 working days'"):
        Duration.parse("fortnight")
