"""The random walker (issue 14): every file in workflows/, driven through the HTTP API with
data the caller's own schemas allow.

For each workflow, hypothesis opens cases with data generated from its ``data_schema`` (by
``values``, which covers the keywords the shipped schemas use: hypothesis-jsonschema 0.23 does
not run on the hypothesis this project uses, and schemathesis keeps its generator private; some
fields pointed at outfalls of a seeded ledger and at known counties, so the walk gets past the
first refusal) and fires random available triggers with payloads generated from their
``payload_schema``, each as a token of a role that may fire it (or the admin). Whatever the
caller sends, the answer is never a 5xx, and every case's history replays to its stored state.
Bounded: few examples, few steps, derandomized so CI runs the same walk every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.definition.model import Definition
from engine.domain import load_domain
from engine.errors import TokenError
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger
from tests.handlers.flows.test_workflow_files import load_definition

definition = cache(load_definition)

FILES = sorted((ROOT / "workflows").glob("*.yaml"))
EXAMPLES = int(os.environ.get("QINGLIU_WALK_EXAMPLES", "8"))  # cases per workflow (more to hunt)
STEPS = 6  # triggers fired per case, at most
COUNTIES = ("donge", "chiping", "dongchangfu", "linqing", "gaoxin")
LEDGER = [
    outfall("371524-0001", "donge"),
    outfall("371503-0002", "chiping", sub_type="urban_wwtp"),
    outfall("371502-0003", "dongchangfu", sub_type="industrial_park_wwtp"),
]
# Fields that name something in the world: sometimes one that exists, so handlers go further.
KNOWN: dict[str, st.SearchStrategy[Any]] = {
    "county": st.sampled_from(COUNTIES),
    "counterpart": st.sampled_from((*COUNTIES, "jinan")),
    "outfall_code": st.sampled_from([r["code"] for r in LEDGER]),
}

Headers = dict[str, str]


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "boolean": st.booleans(),
    "null": st.none(),
}
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date": st.dates().map(str),
    "date-time": st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
}


def values(schema: Any) -> st.SearchStrategy[Any]:
    """Values of ``schema``: ``const``, ``enum``, ``type`` and, per type, the bounds, formats and
    patterns of the shipped schemas (``allOf`` and conditionals are left to the server to
    refuse, which is a walk too)."""
    if not isinstance(schema, dict) or not schema:
        return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}) for k in kind])
    if kind == "object":
        return objects(schema)
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(values(schema.get("items")), min_size=low, max_size=max(low, 3))
    if kind == "string":
        return strings(schema)
    if kind in ("integer", "number"):
        return numbers(schema, kind)
    return SCALARS.get(str(kind), values({}))


def objects(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = schema.get("properties") or {}
    required = [n for n in schema.get("required", []) if n in props] + [
        n for n in schema.get("required", []) if n not in props
    ]
    optional = {n: values(s) for n, s in props.items() if n not in required}
    return st.fixed_dictionaries({n: values(props.get(n)) for n in required}, optional=optional)


def strings(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low = schema.get("minLength", 0)
    return st.text(min_size=low, max_size=schema.get("maxLength", max(low, 12)))


def numbers(schema: dict[str, Any], kind: str) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind == "integer":
        return st.integers(min_value=low, max_value=high)
    above = schema.get("exclusiveMinimum")
    return st.floats(
        min_value=above if above is not None else low,
        max_value=high,
        exclude_min=above is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def writable(schema: Any) -> Any:
    """``schema`` without its readOnly properties (a caller may not send them: a walk that
    always did would stop at the first 422)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    props = {
        name: sub
        for name, sub in schema["properties"].items()
        if not (isinstance(sub, dict) and sub.get("readOnly"))
    }
    return {**schema, "properties": props}


@st.composite
def instance(draw: st.DrawFn, schema: Any) -> dict[str, Any]:
    """An instance of ``schema`` (an object), with some naming fields pointed at known things."""
    if schema in (None, True, {}):
        return {}
    value = draw(values(writable(schema)))
    if not isinstance(value, dict):
        return {}
    for name, known in KNOWN.items():
        if name in value and draw(st.booleans()):
            value[name] = draw(known)
    return value


ROLES = yaml.safe_load((ROOT / "config" / "reference" / "roles.yaml").read_text("utf-8"))
LEVEL = {r["code"]: r["level"] for r in ROLES["roles"]}
# Where a token of each level sits: county-level and party roles in the case's county.
SEAT = {"city": "liaocheng", "province": "shandong", "national": None}


class Walker:
    """The HTTP client and one token per role and jurisdiction, made on first use."""

    def __init__(self, engine: Engine, client: TestClient) -> None:
        self.engine, self.client = engine, client
        self.tokens: dict[tuple[str, str | None], Headers] = {}

    def as_(self, role: str, county: str | None = None) -> Headers:
        seat = SEAT.get(LEVEL.get(role, "national"), county)
        if (role, seat) not in self.tokens:
            try:
                _, secret = create_token(self.engine, f"walker-{role}-{seat}", role, seat)
            except TokenError:  # a generated county that is not one: the role's seat above it
                return self.as_(role, "liaocheng" if county != "liaocheng" else None)
            self.tokens[role, seat] = {"Authorization": f"Bearer {secret}"}
        return self.tokens[role, seat]

    def call(
        self, method: str, url: str, role: str, body: Any = None, county: str | None = None
    ) -> Any:
        answer = self.client.request(method, url, json=body, headers=self.as_(role, county))
        assert answer.status_code < 500, f"{method} {url} as {role} {body!r}: {answer.text}"
        return answer


@pytest.fixture
def walker(engine: Engine) -> Iterator[Walker]:
    engine.load([ROOT / "workflows"])
    seed_ledger(engine, *LEDGER)
    with TestClient(create_app(engine, load_domain("handlers"))) as client:
        yield Walker(engine, client)


def walk_one(draw: st.DrawFn, w: Walker, d: Definition) -> int | None:
    """Open one case and fire up to STEPS triggers on it; its id (None if it was refused)."""
    data = draw(instance(d.data_schema))
    opened = w.call("POST", "/api/v1/cases", "admin", {"workflow": d.name, "data": data})
    if opened.status_code != 201:
        return None
    case_id = int(opened.json()["id"])
    for _ in range(STEPS):
        case = w.call("GET", f"/api/v1/cases/{case_id}", "admin").json()
        available = case["available_triggers"] or []
        if not available:
            break
        trigger = draw(st.sampled_from(sorted(available)))
        specs = [t for t in d.transitions_from(case["state"]) if t.trigger == trigger]
        spec = draw(st.sampled_from(specs))
        payload = draw(instance(spec.payload_schema))
        role = draw(st.sampled_from(("admin", *spec.roles)))
        body = {"trigger": trigger, "payload": payload}
        w.call("POST", f"/api/v1/cases/{case_id}/transitions", role, body, case["jurisdiction"])
    return case_id


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_a_random_walk_never_answers_5xx_and_replays(
    walker: Walker, path: Path, data: st.DataObject
) -> None:
    d = definition(path)
    case_id = walk_one(data.draw, walker, d)
    if case_id is None:
        return
    row, replayed = walker.engine.replay(case_id)
    assert replayed.problems == []
    assert replayed.matches(row), (replayed, row)
