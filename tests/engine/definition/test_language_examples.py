"""docs/definition-language.md cannot rot: every complete workflow example in it (a ```yaml
block whose first key is ``name:``) is valid to the real validator and compiles, and together
the examples use every key of the definition language (the meta-schema
engine/definition/schema/workflow.schema.json, and the data-schema annotations
``readOnly`` and ``confidential``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from engine.definition.compile import CompiledWorkflow
from engine.definition.loader import load_yaml
from engine.definition.validate import check_definition
from engine.domain import load_domain
from engine.handlers import Registry
from engine.settings import load_settings
from tests.conftest import ROOT

DOC = ROOT / "docs" / "definition-language.md"
SCHEMA = ROOT / "engine" / "definition" / "schema" / "workflow.schema.json"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Example:
    line: int  # of the block's first line in the doc
    text: str

    @property
    def name(self) -> str:
        return f"line-{self.line}"


def _complete(text: str) -> bool:
    keys = [ln for ln in text.splitlines() if ln and not ln.startswith(("#", " ", "-"))]
    return bool(keys) and keys[0].startswith("name:")


def examples() -> list[Example]:
    text = DOC.read_text(encoding="utf-8")
    return [
        Example(text.count("\n", 0, m.start(1)) + 1, m.group(1))
        for m in BLOCK.finditer(text)
        if _complete(m.group(1))
    ]


@cache
def registry() -> Registry:
    return load_domain(load_settings(ROOT / "config").handlers).registry


EXAMPLES = examples()


def test_the_doc_has_complete_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_each_complete_example_is_valid_and_compiles(example: Example) -> None:
    source = f"docs/definition-language.md (the example at line {example.line})"
    definition, problems = check_definition(example.text, source, registry())
    shifted = [f"line {p.line + example.line - 1}:{p.column}: {p.message}" for p in problems]
    assert shifted == [], f"an example in {DOC.name} is not valid"
    assert definition is not None
    CompiledWorkflow(definition, registry())


# -- every key of the language has an example ----------------------------------------------


def _schema_keys() -> set[str]:
    """``where.key`` for every key an administrator can write (the meta-schema's properties)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    keys = {f"top.{k}" for k in schema["properties"]}
    keys |= {f"access.{k}" for k in schema["properties"]["access"]["properties"]}
    for kind in ("state", "transition", "timer", "deadline"):
        keys |= {f"{kind}.{k}" for k in defs[kind]["properties"]}
    keys |= {f"at.{k}" for k in defs["at"]["oneOf"][1]["properties"]}
    # Annotations the engine reads in data_schema (engine/definition/fields.py).
    keys |= {"data.readOnly", "data.confidential", "confidential.readers"}
    keys |= {"confidential.anonymous", "confidential.until"}
    # Forms that mean something of their own.
    keys |= {"form.source_any", "form.source_list", "form.guard_list", "form.at_date"}
    keys |= {"form.every", "form.payload_branches"}
    return keys


def _used(value: dict[str, Any]) -> Iterator[str]:
    yield from (f"top.{k}" for k in value)
    yield from (f"access.{k}" for k in value.get("access") or {})
    for prop in ((value.get("data_schema") or {}).get("properties") or {}).values():
        yield from (f"data.{k}" for k in ("readOnly", "confidential") if k in prop)
        yield from (f"confidential.{k}" for k in prop.get("confidential") or {})
    for state in (value.get("states") or {}).values():
        yield from (f"state.{k}" for k in state)
    yield from _transitions_used(value.get("transitions") or [])
    for timers in (value.get("timers") or {}).values():
        for timer in timers:
            yield from (f"timer.{k}" for k in timer)
            yield from _at_used(timer)
            if "every" in timer:
                yield "form.every"
    for deadline in (value.get("deadlines") or {}).values():
        yield from (f"deadline.{k}" for k in deadline)
        yield from _at_used(deadline)


def _transitions_used(transitions: list[dict[str, Any]]) -> Iterator[str]:
    seen: set[tuple[str, str]] = set()
    for t in transitions:
        yield from (f"transition.{k}" for k in t)
        if t["source"] == "*":
            yield "form.source_any"
        if isinstance(t["source"], list):
            yield "form.source_list"
        if isinstance(t.get("guard"), list):
            yield "form.guard_list"
        key = (t["trigger"], json.dumps(t["source"]))
        if key in seen and "payload_schema" in t:
            yield "form.payload_branches"
        seen.add(key)


def _at_used(timer: dict[str, Any]) -> Iterator[str]:
    at = timer.get("at")
    if isinstance(at, dict):
        yield from (f"at.{k}" for k in at)
    elif isinstance(at, str):
        yield "form.at_date"


def test_every_key_of_the_language_has_a_complete_example() -> None:
    used: set[str] = set()
    for example in EXAMPLES:
        doc, _ = load_yaml(example.text)
        used |= set(_used(doc.value))
    missing = sorted(_schema_keys() - used)
    assert missing == [], (
        f"no complete example in {DOC.name} uses these keys of the definition language: add one "
        "(a ```yaml block starting with name:) to the section that documents each"
    )
