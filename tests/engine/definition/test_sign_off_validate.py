"""What the validator says about a ``sign_off`` block: each mistake one `path:line:col`
problem in words; a clean block gives a definition whose sign-off the engine reads back."""

from __future__ import annotations

import pytest

from engine.definition.sign_off import sign_offs
from engine.definition.validate import check_definition
from engine.handlers import Registry
from tests.conftest import ROOT

CLEAN = """\
name: sign
title: 会签
roles: [clerk, housing, urban]
data_schema:
  type: object
  properties:
    departments: {type: array, items: {type: string}}
    note: {type: string}
initial: cosigning
states:
  cosigning:
    title: 会签中
    sign_off:
      parties: {roles: [housing, urban]}
      need: all
      trigger: cosign
      refuse: reject
      done: cosigned
  done: {title: 完成, final: true}
  refused: {title: 退回, final: true}
transitions:
  - {trigger: cosigned, source: cosigning, dest: done}
  - {trigger: reject, source: cosigning, dest: refused, roles: [housing, urban]}
"""


def _problems(text: str) -> list[str]:
    definition, problems = check_definition(text, "sign.yaml", Registry())
    assert (definition is None) == bool(problems)
    return [str(p) for p in problems]


def test_a_clean_block_is_read_back() -> None:
    definition, problems = check_definition(CLEAN, "sign.yaml", Registry())
    assert problems == []
    assert definition is not None
    spec = sign_offs(definition)["cosigning"]
    assert (spec.roles, spec.need, spec.trigger, spec.done, spec.refuse) == (
        ("housing", "urban"),
        None,
        "cosign",
        "cosigned",
        "reject",
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "roles: [housing, urban]}",
            "roles: [housing, water]}",
            "sign.yaml:14:34: party 'water' is not one of this workflow's roles "
            "(clerk, housing, urban)",
        ),
        (
            "need: all",
            "need: 3",
            "sign.yaml:15:13: need 3 is more than the 2 parties named: it can never hold",
        ),
        (
            "{roles: [housing, urban]}",
            "{data: note}",
            "sign.yaml:14:23: party field 'note' must be a list of strings (type: array, "
            "items: {type: string}): the role codes of the parties",
        ),
        (
            "{roles: [housing, urban]}",
            "{data: ghosts}",
            "sign.yaml:14:23: party field 'ghosts' is not a property of data_schema",
        ),
        (
            "done: cosigned",
            "done: finished",
            "sign.yaml:18:13: done trigger 'finished' has no transition from 'cosigning'",
        ),
        (
            "refuse: reject",
            "refuse: decline",
            "sign.yaml:17:15: refuse trigger 'decline' has no transition from 'cosigning'",
        ),
        (
            "trigger: cosign",
            "trigger: reject",
            "sign.yaml:16:16: sign trigger 'reject' is also this sign-off's refuse trigger",
        ),
        (
            "      done: cosigned\n",
            "",
            "sign.yaml:14:7: states.cosigning.sign_off needs a 'done' key",
        ),
        (
            "need: all",
            "need: some",
            "sign.yaml:15:13: need must be 'all', not the string 'some'",
        ),
    ],
)
def test_each_mistake_is_one_problem_at_its_node(old: str, new: str, expected: str) -> None:
    assert old in CLEAN
    assert _problems(CLEAN.replace(old, new, 1))[0] == expected


def test_the_sign_trigger_is_the_sign_offs_own() -> None:
    text = CLEAN + "  - {trigger: cosign, source: cosigning, internal: true, roles: [housing]}\n"
    assert _problems(text) == [
        "sign.yaml:16:16: sign trigger 'cosign' is also a transition from 'cosigning': the "
        "sign-off owns it (declare only the done and refuse transitions)"
    ]


def test_done_must_leave_the_state_and_a_final_state_cannot_wait() -> None:
    text = CLEAN.replace(
        "{trigger: cosigned, source: cosigning, dest: done}",
        "{trigger: cosigned, source: cosigning, internal: true}",
    )
    assert _problems(text) == [
        "sign.yaml:18:13: done trigger 'cosigned' must leave 'cosigning' (a transition out)",
        "sign.yaml:19:3: state 'done' cannot be reached from initial",
    ]
    final = CLEAN.replace("    title: 会签中\n", "    title: 会签中\n    final: true\n")
    assert "sign.yaml:14:5: final state 'cosigning' cannot wait for a sign-off" in _problems(final)


def test_the_documented_example_is_a_clean_definition() -> None:
    text = (ROOT / "docs" / "definition-language.md").read_text(encoding="utf-8")
    section = text.split("## Joint sign-off (会签)", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    definition, problems = check_definition(example, "definition-language.md", Registry())
    assert [str(p) for p in problems] == []
    assert definition is not None
    assert sign_offs(definition)["cosigning"].roles == (
        "housing_city",
        "urban_mgmt_city",
        "water_city",
    )


def test_a_timer_cannot_fire_the_done_trigger() -> None:
    text = CLEAN + "timers:\n  cosigning:\n    - {fires: cosigned, after: 3 days}\n"
    assert _problems(text) == [
        "sign.yaml:26:15: timer fires 'cosigned', the done trigger of the sign-off in "
        "'cosigning': the engine takes it when the sign-off holds, nobody else"
    ]
