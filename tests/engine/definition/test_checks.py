"""The validator's semantic checks (issue 16): each mistake that means nothing at run time is an
error at ``line:col`` with a sentence, and correct role- or payload-split transitions pass."""

from __future__ import annotations

from engine.definition.validate import check_definition
from engine.handlers import Registry

BASE = """\
name: tiny
title: 小流程
roles: [clerk, chief]
initial: a
data_schema:
  type: object
  properties:
    amount: {type: number}
    mode: {type: string, enum: [ban, merge]}
    due: {type: string, format: date}
    county: {type: string}
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
    definition, problems = check_definition(text, "x.yaml", Registry())
    assert (definition is None) == bool(problems)
    return [f"{p.line}:{p.column}: {p.message}" for p in problems]


def _line(text: str, needle: str, nth: int = 1) -> int:
    found = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return found[nth - 1]


def _with(*transitions: str, tail: str = "") -> str:
    return BASE + "".join(transitions) + tail


# -- 1. role-split and payload-split transitions ------------------------------------------------

CHIEF_GO = "  - trigger: go\n    source: a\n    dest: a\n    roles: [chief]\n"


def test_role_split_transitions_are_valid() -> None:
    assert _problems(_with(CHIEF_GO)) == []


def test_payload_split_transitions_are_valid() -> None:
    first = BASE.replace(
        "    roles: [clerk]\n",
        "    roles: [clerk]\n    payload_schema: {type: object, required: [mode]}\n",
    )
    fallback = "  - trigger: go\n    source: a\n    dest: a\n    roles: [clerk]\n"
    same_roles_other_schema = (
        "  - trigger: go\n    source: a\n    dest: b\n    roles: [clerk]\n"
        "    payload_schema: {type: object, required: [amount]}\n"
    )
    assert _problems(first + same_roles_other_schema + fallback) == []


def test_a_transition_whose_roles_earlier_ones_cover_is_still_unreachable() -> None:
    every = "  - trigger: go\n    source: a\n    dest: a\n    roles: [clerk, chief]\n"
    text = _with(CHIEF_GO, every)
    assert _problems(text) == [
        f"{_line(text, 'trigger: go', 3)}:14: trigger 'go' from 'a' can never be taken: "
        "transitions[0] and transitions[1] come first, have no guard, no when and no "
        "stricter payload_schema, and admit every role it admits"
    ]


# -- 2. fields the data schema does not have --------------------------------------------------


def test_when_naming_an_undeclared_field_is_an_error() -> None:
    text = _with(
        "  - trigger: stop\n    source: a\n    dest: b\n    roles: [chief]\n"
        "    when: {required: [amout], properties: {amout: {minimum: 1}}}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'amout')}:44: the when reads data field 'amout', which is not in "
        "data_schema.properties (did you mean 'amount'?)",
    ]


def test_jurisdiction_field_not_in_the_data_schema_is_an_error() -> None:
    text = BASE.replace("initial: a\n", "initial: a\njurisdiction_field: countyy\n")
    assert _problems(text) == [
        "5:21: jurisdiction_field 'countyy' is not in data_schema.properties, so no case "
        "would ever have a jurisdiction (did you mean 'county'?)"
    ]


# -- 3. the graph --------------------------------------------------------------------------------


def test_a_cycle_with_no_exit_is_an_error() -> None:
    text = BASE.replace(
        "  b: {title: B, final: true}\n",
        "  b: {title: B, final: true}\n  c: {title: C}\n  d: {title: D}\n",
    ) + (
        "  - trigger: loop\n    source: a\n    dest: c\n    roles: [clerk]\n"
        "  - trigger: again\n    source: c\n    dest: d\n    roles: [clerk]\n"
        "  - trigger: back\n    source: d\n    dest: c\n    roles: [chief]\n"
    )
    assert _problems(text) == [
        f"{_line(text, '  c: {title')}:3: no final state can be reached from state 'c': "
        "from there, transitions lead only to 'c', 'd' (a cycle with no exit)",
        f"{_line(text, '  d: {title')}:3: no final state can be reached from state 'd': "
        "from there, transitions lead only to 'c', 'd' (a cycle with no exit)",
    ]


def test_the_only_exit_on_an_impossible_value_is_an_error() -> None:
    text = BASE.replace(
        "    roles: [clerk]\n",
        "    roles: [clerk]\n    when: {properties: {mode: {const: stop}}}\n",
    )
    line = _line(text, "const: stop")
    assert _problems(text) == [
        f"{_line(text, '  a: {title')}:3: no final state can be reached from state 'a': "
        "its only ways out need a when that can never hold",
        f"{line}:39: the when needs mode to be 'stop', which data_schema.properties.mode "
        "cannot hold (one of 'ban', 'merge')",
    ]


def test_an_initial_state_that_is_final_is_an_error() -> None:
    text = BASE.replace("initial: a", "initial: b")
    assert "4:10: the initial state 'b' is final: every case would be closed as it opens" in (
        _problems(text)
    )


# -- 4. a when whose type cannot match the field ---------------------------------------------


def test_when_values_of_the_wrong_type_are_errors() -> None:
    text = _with(
        "  - trigger: big\n    source: a\n    dest: b\n    roles: [chief]\n"
        "    when:\n      properties:\n"
        "        amount: {const: '100000'}\n"
        "        mode: {enum: [ban, 3]}\n"
        "        county: {type: integer}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'amount: {const')}:25: the when needs amount to be the string '100000', "
        "which data_schema.properties.amount cannot hold (a number)",
        f"{_line(text, 'mode: {enum')}:28: the when allows mode to be the integer 3, "
        "which data_schema.properties.mode cannot hold (a string)",
        f"{_line(text, 'county: {type: integer')}:24: the when needs county to be an integer, "
        "which data_schema.properties.county cannot hold (a string)",
    ]


# -- 5. unknown JSON Schema keywords -------------------------------------------------------------


def test_unknown_schema_keywords_are_errors_with_a_suggestion() -> None:
    text = BASE.replace("    amount: {type: number}", "    amount: {type: number, minimun: 0}")
    text = text.replace("  type: object\n", "  type: object\n  requird: [amount]\n", 1)
    text += "    payload_schema: {type: object, propertes: {x: {}}, x-note: ok}\n"
    assert _problems(text) == [
        "7:3: unknown JSON Schema keyword 'requird' (did you mean 'required'?): "
        "it would be ignored, so the schema would not check what it seems to",
        "9:28: unknown JSON Schema keyword 'minimun' (did you mean 'minimum'?): "
        "it would be ignored, so the schema would not check what it seems to",
        f"{_line(text, 'propertes')}:36: unknown JSON Schema keyword 'propertes' "
        "(did you mean 'properties'?): it would be ignored, so the schema would not check "
        "what it seems to",
    ]


# -- 6. deadlines and timers that can never fire ---------------------------------------------


def test_a_deadline_that_can_never_fire_its_trigger_is_an_error() -> None:
    text = BASE.replace(
        "  b: {title: B, final: true}\n", "  b: {title: B, final: true}\n  c: {title: C}\n"
    ) + (
        "  - trigger: hold\n    source: a\n    dest: c\n    roles: [clerk]\n"
        "  - trigger: resume\n    source: c\n    dest: a\n    roles: [clerk]\n"
        "  - trigger: overdue\n    source: c\n    dest: b\n"
        "deadlines:\n  limit:\n    starts_in: a\n    runs_until: b\n    pauses_in: c\n"
        "    after: 20 working days\n    fires: overdue\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'fires: overdue')}:12: deadline 'limit' fires 'overdue', which no "
        "transition allows from a state where the deadline runs ('a'): it would never fire"
    ]


def test_a_timer_whose_payload_fits_no_transition_is_an_error() -> None:
    text = BASE.replace("    roles: [clerk]\n", "    payload_schema: {required: [reason]}\n") + (
        "timers:\n  a:\n    - fires: go\n      after: 3 days\n      payload: {note: late}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'payload: {note')}:16: the timer's payload fits the payload_schema of "
        "no transition 'go' from 'a' (transitions[0]: the payload needs a 'reason' key): "
        "it would never fire"
    ]


# -- 7. payload schemas that cannot be satisfied or clash with the data ----------------------


def test_unsatisfiable_payload_schemas_are_errors() -> None:
    text = _with(
        "  - trigger: note\n    source: a\n    internal: true\n    roles: [clerk]\n"
        "    payload_schema:\n      required: [x]\n"
        "      properties:\n"
        "        x: false\n"
        "        n: {type: integer, minimum: 5, maximum: 1}\n"
        "        s: {type: string, const: 3}\n"
        "        e: {enum: []}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'x: false')}:9: 'x' is required but its schema is false: no payload "
        "can satisfy this schema",
        f"{_line(text, 'n: {type')}:12: minimum 5 is above maximum 1: no value can satisfy "
        "this schema",
        f"{_line(text, 's: {type')}:12: const 3 is not a string, as type requires: no value "
        "can satisfy this schema",
        f"{_line(text, 'e: {enum')}:12: enum is empty: no value can satisfy this schema",
    ]


def test_a_merged_payload_that_cannot_fit_the_data_schema_is_an_error() -> None:
    text = _with(
        "  - trigger: amend\n    source: a\n    internal: true\n    roles: [clerk]\n"
        "    merge_payload: true\n"
        "    payload_schema: {properties: {amount: {type: string}}}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'amount: {type: string')}:35: the merged payload's 'amount' is a "
        "string, which data_schema.properties.amount cannot hold (a number): every such "
        "payload would be refused"
    ]


# -- 8. every error of an embedded schema, in words --------------------------------------------


def test_every_meta_schema_error_is_reported_in_words() -> None:
    text = BASE + "    payload_schema: {type: objekt, minLength: -1, required: yes}\n"
    line = _line(text, "objekt")
    assert _problems(text) == [
        f"{line}:28: invalid JSON Schema: type 'objekt' is not a JSON type "
        "(array, boolean, integer, null, number, object, string)",
        f"{line}:47: invalid JSON Schema: minLength must be 0 or more, not -1",
        f"{line}:61: invalid JSON Schema: required must be a list, not the string 'yes'",
    ]


def test_a_shape_error_does_not_hide_the_other_problems() -> None:
    text = BASE.replace("  a: {title: A}", "  a: {title: A, final: maybe}") + (
        "  - trigger: stop\n    source: a\n    dest: b\n    roles: [wizard]\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'final: maybe')}:24: final must be true or false, not the string 'maybe'",
        f"{_line(text, 'wizard')}:13: role 'wizard' is not declared in roles",
    ]


def test_a_missing_key_is_named() -> None:
    text = BASE.replace("  a: {title: A}", "  a: {final: false}")
    assert _problems(text) == [f"{_line(text, '  a: {final')}:6: states.a needs a 'title' key"]


def test_an_unknown_key_names_the_nearest_one() -> None:
    text = BASE.replace("  a: {title: A}", "  a: {title: A, fianl: true}")
    assert _problems(text) == [
        f"{_line(text, 'fianl')}:17: unknown key 'fianl' (did you mean 'final'?)"
    ]


def test_an_invalid_schema_is_reported_once_not_judged_further() -> None:
    text = BASE + "    when: {required: yes, properties: {amount: {type: objekt, const: 1}}}\n"
    line = _line(text, "objekt")
    assert _problems(text) == [
        f"{line}:22: invalid JSON Schema: required must be a list, not the string 'yes'",
        f"{line}:55: invalid JSON Schema: type 'objekt' is not a JSON type "
        "(array, boolean, integer, null, number, object, string)",
    ]


def test_a_choice_of_shapes_is_explained_by_the_shape_written() -> None:
    text = BASE.replace("    source: a\n", "    source: 3\n") + (
        "timers:\n  a:\n    - fires: go\n      at: {date: '2027-01-01'}\n"
        "deadlines:\n  limit:\n    starts_in: []\n    runs_until: b\n    after: 3 days\n"
        "    fires: go\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'source: 3')}:13: source must be '*' or a name or a list of names, "
        "not the integer 3",
        f"{_line(text, 'at: {date')}:11: timers.a[0].at needs a 'data' key",
        f"{_line(text, 'at: {date')}:12: unknown key 'date' (did you mean 'data'?)",
        f"{_line(text, 'starts_in')}:16: starts_in must have at least 1 item",
    ]


def test_a_stored_version_is_compiled_without_the_later_rules() -> None:
    text = BASE.replace("  type: object\n", "  type: object\n  requird: [amount]\n", 1)
    assert _problems(text) != []
    definition, problems = check_definition(text, "x.yaml", Registry(), stored=True)
    assert problems == []
    assert definition is not None


def test_a_merged_payload_is_checked_through_all_of() -> None:
    text = _with(
        "  - trigger: amend\n    source: a\n    internal: true\n    roles: [clerk]\n"
        "    merge_payload: true\n"
        "    payload_schema: {allOf: [{required: [mode]}, {properties: {mode: {type: integer}}}]}\n"
    )
    assert _problems(text) == [
        f"{_line(text, 'allOf')}:64: the merged payload's 'mode' is an integer, which "
        "data_schema.properties.mode cannot hold (a string): every such payload would be refused"
    ]
