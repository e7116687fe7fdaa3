"""Every file in workflows/: it validates, compiles, and a case can be driven from the initial
state to each final state along a path, firing as admin with example payloads.

Payloads and case data come from each schema (``example``: the smallest instance of the usual
keywords) overlaid with the examples in tests/handlers/flows/paths.yaml, where a workflow also names
the ledger records its guards need and the data to use for a given final state.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.catalog import Catalog
from engine.definition.model import Definition, TransitionSpec
from engine.definition.sign_off import sign_offs
from engine.domain import load_domain
from engine.handlers import Actor
from engine.runtime import Engine
from tests.attachkit import stand_ins
from tests.conftest import ROOT
from tests.handlers.flows.support import seed_ledger

FILES = sorted((ROOT / "workflows").glob("*.yaml"))
PATHS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "paths.yaml").read_text("utf-8"))

_SCALARS: dict[str, Any] = {"string": "x", "integer": 1, "number": 1, "boolean": True}
_FORMATS = {"date": "2024-05-01", "date-time": "2024-05-01T08:00:00+08:00"}


def example(schema: Any) -> Any:
    """A small instance of ``schema``: const/enum first, then required properties, minItems
    items, minimum; patterns are not solved (paths.yaml gives those values)."""
    if not isinstance(schema, dict):
        return {}
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        items = [example(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
        return [f"{v}{i + 1}" if isinstance(v, str) else v for i, v in enumerate(items)]
    if kind == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    return _SCALARS.get(kind, "x")


def shortest_path(d: Definition, final: str) -> list[TransitionSpec]:
    """Transitions with a destination from the initial state to ``final``, fewest first."""
    queue: deque[tuple[str, list[TransitionSpec]]] = deque([(d.initial, [])])
    seen = {d.initial}
    while queue:
        state, path = queue.popleft()
        if state == final:
            return path
        for t in d.transitions_from(state):
            if t.dest is not None and t.dest not in seen:
                seen.add(t.dest)
                queue.append((t.dest, [*path, t]))
    raise AssertionError(f"{final} cannot be reached from {d.initial}")


def payload_for(t: TransitionSpec, examples: dict[str, Any]) -> dict[str, Any]:
    key = f"{t.trigger}>{t.dest}"
    given = examples.get(key, examples.get(t.trigger))
    if given is not None:
        return dict(given)
    return dict(example(t.payload_schema)) if t.payload_schema else {}


def load_definition(path: Path) -> Definition:
    from engine.settings import load_settings

    catalog = Catalog(load_domain(load_settings(ROOT / "config").handlers).registry)
    definitions, problems = catalog.check_files([path])
    assert [str(p) for p in problems] == []
    assert len(definitions) == 1
    return definitions[0]


def final_states(d: Definition) -> list[str]:
    return [name for name, s in d.states.items() if s.final]


def cases() -> list[Any]:
    """(file, final state) pairs; a file that does not validate yields one failing pair, so a
    broken file fails its own tests instead of the collection of every other file."""
    out = []
    for path in FILES:
        try:
            finals = final_states(load_definition(path))
        except AssertionError:
            finals = ["<invalid>"]
        out.extend(pytest.param(path, final, id=f"{path.name}-{final}") for final in finals)
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file_validates_and_compiles(engine: Engine, path: Path) -> None:
    d = load_definition(path)
    assert final_states(d), f"{path.name} has no final state"
    published = engine.load([ROOT / "workflows"])
    assert d.name in {p.name for p in published}
    row, loaded = engine.definition(d.name)
    assert loaded.content_hash == d.content_hash
    assert row.version >= 1


@pytest.mark.parametrize(("path", "final"), cases())
def test_a_case_reaches_every_final_state(
    engine: Engine, admin: Actor, path: Path, final: str
) -> None:
    d = load_definition(path)
    spec: dict[str, Any] = PATHS.get(d.name, {})
    engine.load([ROOT / "workflows"])
    seed_ledger(engine, *spec.get("ledger", []))
    with engine.store.write() as tx:  # other subjects a case checks on opening (kind, key, data)
        for other in spec.get("subjects", []):
            data = other["data"]
            tx.put_subject(
                other["kind"], other["key"], data, data.get("county"), engine.clock.now()
            )
    data = {**example(d.data_schema), **spec.get("data", {})}
    data.update(spec.get("data_for", {}).get(final, {}))
    data = stand_ins(engine, admin, d.name, data)  # attachments named by a string: uploaded
    view = engine.create_case(d.name, data, admin, subject=spec.get("subject"))
    examples = {**spec.get("payloads", {}), **spec.get("payloads_for", {}).get(final, {})}
    # A sign-off's done transition is the engine's own: taken when the round holds (here: a
    # round with no party to wait for), never fired by a caller.
    done = {s.done for s in sign_offs(d).values()}
    path = shortest_path(d, final)
    for i, t in enumerate(path):
        if t.trigger in done and view.state == t.dest:
            continue
        payload = payload_for(t, examples)
        payload = stand_ins(engine, admin, d.name, payload, trigger=t.trigger, case_id=view.id)
        view = engine.fire(view.id, t.trigger, admin, payload)
        after = path[i + 1] if i + 1 < len(path) else None
        settled = after is not None and after.trigger in done and view.state == after.dest
        assert view.state == t.dest or settled, f"{t.trigger} led to {view.state}, not {t.dest}"
    assert view.state == final
    assert not view.case.is_open
    assert engine.verify_audit() == []
