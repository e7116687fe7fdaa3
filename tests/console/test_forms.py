"""Forms from payload_schema (engine/console/forms.py): every shipped trigger's schema renders,
the submitted form goes back to its JSON payload, and errors find their inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from engine.console import forms
from engine.console.case_view import Offer
from engine.console.web import templates_for
from engine.errors import FieldError
from tests.conftest import ROOT

ZONE = ZoneInfo("Asia/Shanghai")
WORKFLOWS = sorted((ROOT / "workflows").glob("*.yaml"))


def _schemas(path: Path) -> list[tuple[str, Any]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = [(t["trigger"], t.get("payload_schema")) for t in raw["transitions"]]
    for state in raw["states"].values():
        if isinstance(state, dict) and "sign_off" in state:
            spec = state["sign_off"]
            out.append((spec["trigger"], spec.get("payload_schema")))
    return out


def _render(fields: tuple[forms.Field, ...], values: dict[str, list[str]] | None = None) -> str:
    env = templates_for().env
    offer = Offer("1", "t", "办理", fields)
    offer.values = values or {}
    offer.inputs = forms.expand(fields, offer.values)
    template = env.from_string(
        '{% from "case/_fields.html" import field %}'
        "{% for f in offer.inputs %}{{ field(f, offer) }}{% endfor %}"
    )
    return template.render(offer=offer)


def _names(fields: tuple[forms.Field, ...]) -> list[str]:
    out = []
    for f in fields:
        out.append(f.name)
        out += _names(f.children)
    return out


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.stem for p in WORKFLOWS])
def test_every_trigger_schema_of_the_workflow_renders(path: Path) -> None:
    for trigger, schema in _schemas(path):
        fields = forms.expand(forms.fields(schema), {})
        html = _render(forms.fields(schema))
        for f in fields:
            if f.kind not in ("fixed",):
                assert f'data-field="{f.name}"' in html, (trigger, f.name)
        assert 'style="' not in html
        # an empty form reads back as the fixed values only (no empty strings sent)
        body, faults = forms.payload(forms.fields(schema), {}, ZONE)
        assert faults == []
        assert all(v != "" for v in body.values()), trigger


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["decision", "kind"],
    "properties": {
        "kind": {"enum": ["a", "b"], "x-titles": {"a": "甲", "b": "乙"}, "title": "类别"},
        "level": {"oneOf": [{"const": 1, "title": "一级"}, {"const": 2, "title": "二级"}]},
        "on": {"type": "string", "format": "date", "description": "日期"},
        "at": {"type": "string", "format": "date-time", "title": "时间"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "done": {"type": "boolean", "title": "已完成", "description": "是否完成"},
        "items": {"type": "array", "items": {"type": "string"}},
        "found": {"type": "array", "items": {"enum": ["x", "y"]}},
        "decision": {
            "type": "object",
            "required": ["number"],
            "properties": {"number": {"type": "string", "pattern": "^[0-9]+$"}},
        },
        "units": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    },
    "allOf": [{"properties": {"mode": {"const": "merge"}}, "required": ["mode"]}],
}


def test_a_schema_becomes_titled_inputs_of_the_right_kinds() -> None:
    fields = {f.name: f for f in forms.fields(SCHEMA)}
    assert {n: f.kind for n, f in fields.items()} == {
        "kind": "select",
        "level": "select",
        "on": "date",
        "at": "datetime",
        "count": "integer",
        "ratio": "number",
        "done": "checkbox",
        "items": "lines",
        "found": "multi",
        "decision": "group",
        "units": "rows",
        "mode": "fixed",
    }
    assert fields["kind"].label == "类别"
    assert [(c.value, c.title) for c in fields["kind"].choices] == [("a", "甲"), ("b", "乙")]
    assert [c.title for c in fields["level"].choices] == ["一级", "二级"]
    assert fields["on"].label == "日期"  # the description when there is no title
    assert (fields["done"].label, fields["done"].hint) == ("已完成", "是否完成")
    assert fields["decision"].required
    assert fields["mode"].required
    assert fields["mode"].fixed == "merge"
    assert [f.name for f in fields["decision"].children] == ["decision.number"]
    html = _render(forms.fields(SCHEMA))
    assert 'type="date"' in html
    assert 'type="datetime-local"' in html
    assert 'type="number"' in html
    assert 'type="checkbox" id="f1-done"' in html
    assert '<option value="a">甲</option>' in html
    assert 'name="units[0].name"' in html
    assert 'name="units[1].name"' in html  # one spare row


def test_the_submitted_form_goes_back_to_the_payload() -> None:
    values = {
        "kind": ["b"],
        "level": ["2"],
        "on": ["2025-03-31"],
        "at": ["2025-03-31T09:30"],
        "count": ["3"],
        "ratio": ["0.5"],
        "done": ["on"],
        "items": ["甲\n\n 乙 \n"],
        "found": ["y"],
        "decision.number": ["12"],
        "units[0].name": ["某公司"],
        "units[1].name": [""],
    }
    body, faults = forms.payload(forms.fields(SCHEMA), values, ZONE)
    assert faults == []
    assert body == {
        "kind": "b",
        "level": 2,
        "on": "2025-03-31",
        "at": "2025-03-31T09:30:00+08:00",
        "count": 3,
        "ratio": 0.5,
        "done": True,
        "items": ["甲", "乙"],
        "found": ["y"],
        "decision": {"number": "12"},
        "units": [{"name": "某公司"}],
        "mode": "merge",
    }


def test_empty_optional_inputs_are_left_out_and_bad_numbers_are_errors() -> None:
    body, faults = forms.payload(forms.fields(SCHEMA), {"count": ["x"], "kind": [""]}, ZONE)
    assert body == {"decision": {}, "mode": "merge"}  # required group kept: its errors show
    assert faults == [FieldError("$.count", "请输入整数")]


def test_errors_find_their_inputs() -> None:
    fields = forms.expand(forms.fields(SCHEMA), {"units[0].name": ["x"]})
    errors = [
        FieldError("$", "'kind' is a required property"),
        FieldError("$.decision", "'number' is a required property"),
        FieldError("$.items[0]", "'' is too short"),
        FieldError("$.units[0].name", "1 is not of type 'string'"),
        FieldError("$.decision.number", "'x' does not match '^[0-9]+$'"),
        FieldError("$.nowhere", "Additional properties are not allowed"),
    ]
    at, summary = forms.placed(fields, errors)
    assert at == {
        "kind": ["必填"],
        "decision.number": ["必填", "格式不正确"],
        "items": ["不能为空或太短"],
        "units[0].name": ["类型不正确"],
    }
    assert summary[0] == ("类别", "必填")
    assert summary[-1] == ("", "含有不允许的字段")
    assert _names(fields).count("units[0].name") == 1


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e400"])
def test_a_number_json_cannot_hold_is_an_error_at_its_input(text: str) -> None:
    schema = {"type": "object", "properties": {"amount": {"type": "number", "title": "金额"}}}
    body, faults = forms.payload(forms.fields(schema), {"amount": [text]}, ZONE)
    assert body == {}
    assert faults == [FieldError("$.amount", "请输入数字")]
