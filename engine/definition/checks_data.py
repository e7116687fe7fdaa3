"""What a definition says about its data fields, checked against ``data_schema``.

- A ``when`` (and an explicit ``jurisdiction_field``) may name only fields declared in
  ``data_schema.properties``, when the data schema declares properties at all: a field it
  does not declare is a typo, and the guard would judge a value no case ever has.
- A ``when`` may ask of a field only what the field's schema can hold: a ``const`` or ``enum``
  value of its type (and among its own ``enum``), a ``type`` that meets its type. A when that
  can never hold makes its transition dead (``impossible_when``, used by the graph checks).
- A merged payload (``merge_payload``) may not give a field a type the data schema refuses for
  it, nor a key the data schema does not allow: every such payload would be refused after the
  transition's actions ran.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.definition.loader import Document, Path
from engine.definition.wording import a_value, type_words
from engine.errors import Problem

__all__ = ["data_problems", "impossible_when", "json_type", "meets", "nearest", "types_of"]

_BRANCHES = ("allOf", "anyOf", "oneOf")


def nearest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _props(schema: Any) -> Mapping[str, Any] | None:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else None


def types_of(schema: Any) -> set[str] | None:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(kind, str):
        return {kind}
    return {str(k) for k in kind} if isinstance(kind, list) else None


def _values(schema: Any) -> list[Any] | None:
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return enum if isinstance(enum, list) else None


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), "object")


def meets(one: set[str], other: set[str]) -> bool:
    numbers = {"integer", "number"}
    return bool(one & other) or (bool(one & numbers) and bool(other & numbers))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _cannot_hold(field: Any, value: Any) -> tuple[str, bool] | None:
    """Why ``field``'s schema cannot hold ``value`` (and whether it is the type), or None."""
    types = types_of(field)
    if types is not None and not meets({json_type(value)}, types):
        return type_words(sorted(types)), True
    values = _values(field)
    if values is not None and not any(_same(value, v) for v in values):
        if len(values) == 1:
            return f"only {values[0]!r}", False
        return "one of " + ", ".join(repr(v) for v in values), False
    return None


def _fields(when: Any, path: Path, positive: bool = True) -> Iterator[tuple[Path, str, Any, bool]]:
    """(path, field, the when's schema for it or None, whether it must hold) for every
    top-level field a ``when`` names."""
    if not isinstance(when, Mapping):
        return
    for name, sub in (_props(when) or {}).items():
        yield (*path, "properties", name), str(name), sub, positive
    for i, name in enumerate(when.get("required") or ()):
        yield (*path, "required", i), str(name), None, positive
    for key in ("dependentRequired", "dependentSchemas"):
        for name in when.get(key) or {}:
            yield (*path, key, name), str(name), None, False
    for key in _BRANCHES:
        for i, part in enumerate(when.get(key) or ()):
            yield from _fields(part, (*path, key, i), positive and key == "allOf")
    for key in ("not", "if", "then", "else"):
        yield from _fields(when.get(key), (*path, key), False)


def _mismatches(name: str, sub: Any, field: Any, path: Path) -> Iterator[tuple[Path, str, bool]]:
    """(path, message, whether it makes the when impossible) for what ``sub`` asks that
    ``field`` cannot hold."""
    if not isinstance(sub, Mapping):
        return
    where = f"which data_schema.properties.{name} cannot hold"
    if "const" in sub and (why := _cannot_hold(field, sub["const"])):
        shown = a_value(sub["const"]) if why[1] else repr(sub["const"])
        yield (*path, "const"), f"the when needs {name} to be {shown}, {where} ({why[0]})", True
    enum = sub.get("enum")
    if isinstance(enum, list):
        bad = 0
        for k, value in enumerate(enum):
            if why := _cannot_hold(field, value):
                bad += 1
                shown = a_value(value) if why[1] else repr(value)
                message = f"the when allows {name} to be {shown}, {where} ({why[0]})"
                yield (*path, "enum", k), message, False
        if enum and bad == len(enum):
            yield (*path, "enum"), "", True
    wanted, held = types_of(sub), types_of(field)
    if wanted is not None and held is not None and not meets(wanted, held):
        message = f"the when needs {name} to be {type_words(sorted(wanted))}, {where}"
        yield (*path, "type"), f"{message} ({type_words(sorted(held))})", True


def impossible_when(when: Any, data_schema: Any) -> bool:
    """Whether ``when`` can never hold on data that fits ``data_schema``."""
    if when is False:
        return True
    declared = _props(data_schema) or {}
    for path, name, sub, positive in _fields(when, ()):
        if not positive or name not in declared:
            continue
        if any(dead for _, _, dead in _mismatches(name, sub, declared[name], path)):
            return True
    return False


def data_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    declared = _props(v.get("data_schema"))
    if declared is None:
        return
    if "jurisdiction_field" in v and v["jurisdiction_field"] not in declared:
        name = v["jurisdiction_field"]
        yield doc.problem(
            ("jurisdiction_field",),
            f"jurisdiction_field {name!r} is not in data_schema.properties, so no case would "
            f"ever have a jurisdiction{nearest(name, declared)}",
        )
    for i, t in enumerate(v.get("transitions", ())):
        yield from _when_problems(doc, ("transitions", i, "when"), t.get("when"), declared)
        if t.get("merge_payload"):
            yield from _merge_problems(doc, i, t, v["data_schema"], declared)


def _when_problems(
    doc: Document, at: Path, when: Any, declared: Mapping[str, Any]
) -> Iterator[Problem]:
    named: set[str] = set()
    for path, name, sub, _ in sorted(_fields(when, at), key=_properties_first):
        if name not in declared:
            if name not in named:
                named.add(name)
                message = (
                    f"the when reads data field {name!r}, which is not in "
                    f"data_schema.properties{nearest(name, declared)}"
                )
                yield doc.problem(path, message, at_key=path[-2] == "properties")
            continue
        for where, message, _ in _mismatches(name, sub, declared[name], path):
            if message:
                yield doc.problem(where, message)


def _merged_properties(schema: Any, at: Path) -> Iterator[tuple[Path, str, Any]]:
    """The top-level properties a payload schema declares, itself and through ``allOf``."""
    at = (*at, "payload_schema")
    for name, sub in (_props(schema) or {}).items():
        yield (*at, "properties", name), str(name), sub
    parts = schema.get("allOf") if isinstance(schema, Mapping) else None
    for k, part in enumerate(parts if isinstance(parts, list) else ()):
        for name, sub in (_props(part) or {}).items():
            yield (*at, "allOf", k, "properties", name), str(name), sub


def _properties_first(found: tuple[Path, str, Any, bool]) -> bool:
    return found[0][-2] != "properties"


def _merge_problems(
    doc: Document, i: int, t: Mapping[str, Any], data_schema: Any, declared: Mapping[str, Any]
) -> Iterator[Problem]:
    closed = isinstance(data_schema, Mapping) and data_schema.get("additionalProperties") is False
    for at, name, sub in _merged_properties(t.get("payload_schema"), ("transitions", i)):
        field = declared.get(name)
        if field is None:
            if closed:
                yield doc.problem(
                    at,
                    f"the merged payload's {name!r} is not in data_schema.properties, which "
                    "allows no other keys: every such payload would be refused",
                    at_key=True,
                )
            continue
        wanted, held = types_of(sub), types_of(field)
        if wanted is not None and held is not None and not meets(wanted, held):
            yield doc.problem(
                at,
                f"the merged payload's {name!r} is {type_words(sorted(wanted))}, which "
                f"data_schema.properties.{name} cannot hold ({type_words(sorted(held))}): "
                "every such payload would be refused",
                at_key=True,
            )
