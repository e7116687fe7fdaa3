"""The quick JSON Schema predicate says "valid" only where jsonschema does, so ``SchemaCheck``
reports exactly jsonschema's errors; and it covers the schemas the outfall flows use."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definition.quickcheck import SchemaCheck, quick_predicate, schema_errors
from engine.definition.schemas import validator as engine_validator
from tests.conftest import ROOT

NAMES = ["a", "b", "mode", "n"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from([0.0, 1.0, 2.5, -1.5, 1e300]),
    st.sampled_from(["", "x", "ab", "merge", "2023-01-31", "2023-13-45", "12\n", "同意"]),
)
instances = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*NAMES, "zz"]), inner, max_size=4),
    ),
    max_leaves=12,
)


def _schemas(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    number = st.sampled_from([0, 1, 2, 2.5, -1])
    keyword = st.one_of(
        st.tuples(
            st.just("type"),
            st.sampled_from(
                [
                    "string",
                    "integer",
                    "number",
                    "object",
                    "array",
                    "boolean",
                    "null",
                    ["string", "null"],
                    ["integer", "boolean"],
                ]
            ),
        ),
        st.tuples(st.just("properties"), st.dictionaries(st.sampled_from(NAMES), inner)),
        st.tuples(st.just("additionalProperties"), st.one_of(st.booleans(), inner)),
        st.tuples(st.just("required"), st.lists(st.sampled_from(NAMES), max_size=3)),
        st.tuples(st.just("enum"), st.lists(scalars, min_size=1, max_size=4)),
        st.tuples(st.just("const"), scalars),
        st.tuples(
            st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]), number
        ),
        st.tuples(
            st.sampled_from(["minLength", "maxLength", "minItems", "maxItems"]), st.integers(0, 3)
        ),
        st.tuples(
            st.just("pattern"), st.sampled_from(["^[0-9]+$", "a", "^$", "merge|ban", "^(a+)+$"])
        ),
        st.tuples(
            st.just("format"), st.sampled_from(["date", "date-time", "email", "unknown-format"])
        ),
        st.tuples(st.just("items"), inner),
        st.tuples(st.just("uniqueItems"), st.booleans()),
        st.tuples(st.sampled_from(["allOf", "anyOf"]), st.lists(inner, min_size=1, max_size=3)),
        st.tuples(st.sampled_from(["if", "then", "else"]), inner),
        # Outside the supported set: the predicate must step aside.
        st.tuples(st.sampled_from(["multipleOf", "minProperties"]), st.just(2)),
        st.tuples(st.just("not"), inner),
        st.tuples(st.just("title"), st.just("标题")),
    )
    return st.lists(keyword, max_size=4).map(dict)


schemas = st.recursive(st.just({}), _schemas, max_leaves=8)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, instance=instances)
def test_the_quick_answer_never_disagrees_with_jsonschema(schema: Any, instance: Any) -> None:
    validator = engine_validator(schema)  # RE2 patterns, formats checked, nothing fetched
    quick = quick_predicate(schema)
    if quick is not None and quick(instance):
        assert validator.is_valid(instance), (schema, instance)
    check = SchemaCheck(schema)
    assert check.is_valid(instance) == validator.is_valid(instance)
    assert check.errors(instance) == schema_errors(validator, instance)


def _flow_schemas() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for path in sorted((ROOT / "workflows").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "data_schema" in doc:
            found.append((f"{path.name} data_schema", doc["data_schema"]))
        for t in doc.get("transitions", []):
            for key in ("payload_schema", "when"):
                if key in t:
                    found.append((f"{path.name} {t['trigger']} {key}", t[key]))
    return found


def test_every_schema_of_the_outfall_flows_has_a_quick_predicate() -> None:
    flows = _flow_schemas()
    assert len(flows) > 40
    assert [name for name, schema in flows if quick_predicate(schema) is None] == []


RECTIFY = {
    "type": "object",
    "required": ["mode"],
    "additionalProperties": False,
    "properties": {
        "mode": {"enum": ["ban", "merge", "regularise"]},
        "merged_into": {"type": "string", "minLength": 1},
        "inspectors": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
    },
    "if": {"properties": {"mode": {"const": "merge"}}},
    "then": {"required": ["merged_into"]},
}


@pytest.mark.parametrize(
    ("instance", "quick", "valid"),
    [
        ({"mode": "ban"}, True, True),
        ({"mode": "merge", "merged_into": "371502-01"}, True, True),
        ({"mode": "merge"}, False, False),  # the if/then rule
        ({"mode": "ban", "inspectors": ["甲", "乙"]}, True, True),
        ({"mode": "ban", "inspectors": ["甲", "甲"]}, False, False),
        ({"mode": "ban", "extra": 1}, False, False),
        ({"mode": "close"}, False, False),
    ],
)
def test_quick_answers_on_a_flow_schema(instance: Any, quick: bool, valid: bool) -> None:
    predicate = quick_predicate(RECTIFY)
    assert predicate is not None
    assert predicate(instance) is quick
    check = SchemaCheck(RECTIFY)
    assert check.is_valid(instance) is valid
    assert bool(check.errors(instance)) is not valid


def test_unsure_cases_go_to_jsonschema() -> None:
    """1 equals 1.0 for jsonschema's enum; the predicate is not sure and jsonschema decides."""
    check = SchemaCheck({"enum": [1.0]})
    assert check.quick is not None
    assert not check.quick(1)
    assert check.is_valid(1)
    assert quick_predicate({"multipleOf": 0.01}) is None
    assert SchemaCheck({"multipleOf": 0.01}).errors(0.29) != []  # jsonschema's verdict kept
