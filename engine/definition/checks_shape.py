"""The definition's shape, against ``schema/workflow.schema.json``: every error, in words, and
the well-formed rest of the document, so that one shape error does not hide the others.

``shape(doc)`` returns the problems and a pruned copy of the document without the parts that
are malformed: a state, transition, timer or deadline with a shape error is dropped (a state
keeps its name, so references to it are not reported twice), an unknown or malformed top-level
key is dropped. The pruned copy is None when what every other check needs is itself malformed
(``roles``, ``initial``, ``states``, ``transitions``). ``complete`` is False when something was
dropped from states or transitions: the checks over the whole graph then say nothing, since
they would judge a graph that is not the one written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.definition.checks_data import json_type, meets, nearest, types_of
from engine.definition.loader import Document, Path
from engine.definition.wording import a_value, key_of, type_words, worded
from engine.errors import Problem

__all__ = ["Shape", "shape"]

_NEEDED = ("roles", "initial", "states", "transitions")
_ITEMS = ("states", "transitions", "timers", "deadlines")


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("engine.definition").joinpath("schema/workflow.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


@cache
def _pattern_meaning() -> dict[str, str]:
    defs = _schema()["$defs"]
    return {
        defs["identifier"]["pattern"]: "is not a valid name (lower-case letters, digits, _)",
        defs["duration"]["pattern"]: "is not a duration: write e.g. '20 working days', '3 days'",
        defs["date_or_datetime"]["pattern"]: "is not a date (YYYY-MM-DD) or ISO datetime",
    }


@dataclass
class Shape:
    problems: list[Problem]
    value: dict[str, Any] | None  # the well-formed rest, or None
    complete: bool  # nothing dropped from states or transitions


def _resolved(schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = _schema()["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kinds(schema: Any) -> set[str] | None:
    """The JSON types a (resolved) schema of the language allows; None: any."""
    schema = _resolved(schema)
    if not isinstance(schema, dict):
        return None
    if "type" in schema:
        return types_of(schema)
    if "const" in schema:
        return {json_type(schema["const"])}
    if "oneOf" in schema:
        found: set[str] = set()
        for branch in schema["oneOf"]:
            kinds = _kinds(branch)
            if kinds is None:
                return None
            found |= kinds
        return found
    return None


def _described(schema: Any) -> str:
    schema = _resolved(schema)
    names = {id(d): name for name, d in _schema()["$defs"].items()}
    words = _DESCRIBED.get(names.get(id(schema), ""))
    if words is not None:
        return words
    if "const" in schema:
        return repr(schema["const"])
    if isinstance(schema.get("properties"), dict) and schema.get("type") == "object":
        return "{" + ", ".join(f"{key}: ..." for key in schema["properties"]) + "}"
    return type_words(sorted(types_of(schema) or {"object"}))


_DESCRIBED = {
    "identifier": "a name (lower-case letters, digits, _)",
    "identifiers": "a name or a list of names",
    "date_or_datetime": "a date (YYYY-MM-DD) or ISO datetime",
    "duration": "a duration such as '20 working days'",
}


def _branch_errors(error: ValidationError) -> list[ValidationError]:
    """For a oneOf of the language, the errors of the branch that fits the value's type (a list
    of names, not a name, when a list is written); the oneOf itself when none fits."""
    if error.validator != "oneOf" or not error.context:
        return [error]
    value = json_type(error.instance)
    for i, branch in enumerate(error.validator_value):
        kinds = _kinds(branch)
        if kinds is None or meets({value}, kinds):
            inner = [e for e in error.context if e.relative_schema_path[0] == i]
            return [found for e in inner for found in _branch_errors(e)]
    return [error]


def _worded(doc: Document, error: ValidationError) -> Iterator[tuple[Path, Problem]]:
    """Each problem with the path of the part it makes malformed."""
    for inner in _branch_errors(error):
        yield from _one(doc, inner)


def _one(doc: Document, inner: ValidationError) -> Iterator[tuple[Path, Problem]]:
    path = tuple(inner.absolute_path)
    if inner.validator == "oneOf":
        ways = [_described(branch) for branch in inner.validator_value]
        listed = ", ".join(ways[:-1]) + f" or {ways[-1]}" if len(ways) > 1 else ways[0]
        message = f"{key_of(path)} must be {listed}, not {a_value(inner.instance)}"
        yield path, doc.problem(path, message)
        return
    if inner.validator == "additionalProperties" and isinstance(inner.instance, dict):
        known = set(inner.schema.get("properties", {}))
        for key in inner.instance:
            if key not in known:
                message = f"unknown key {key!r}{nearest(str(key), known)}"
                yield (*path, key), doc.problem((*path, key), message, at_key=True)
        return
    if inner.validator == "pattern":
        what = _pattern_meaning().get(inner.schema.get("pattern", ""), "does not have the form")
        yield path, doc.problem(path, f"{inner.instance!r} {what}")
        return
    yield path, doc.problem(path, worded(inner))


def shape(doc: Document) -> Shape:
    problems: list[Problem] = []
    broken: list[Path] = []
    for error in _validator().iter_errors(doc.value):
        for path, problem in _worded(doc, error):
            broken.append(path)
            problems.append(problem)
    if not broken:
        return Shape(problems, doc.value, True)
    return Shape(problems, *_prune(doc.value, broken))


def _prune(value: dict[str, Any], broken: list[Path]) -> tuple[dict[str, Any] | None, bool]:
    for path in broken:
        if not path or path[0] in _NEEDED and (path[0] not in _ITEMS or len(path) < 2):
            return None, False
    out = dict(value)
    complete = True
    for path in broken:
        top = path[0]
        if top not in _ITEMS or len(path) == 1:
            out.pop(str(top), None)
            continue
        complete = complete and top not in ("states", "transitions")
        if top == "states":
            state = out["states"] = dict(out["states"])
            state[str(path[1])] = {"title": "?", "_broken": True}
        elif top == "transitions":
            out["transitions"] = [
                {"_broken": True} if i == path[1] else t for i, t in enumerate(out["transitions"])
            ]
        elif top == "timers" and len(path) >= 3:
            timers = out["timers"] = dict(out["timers"])
            timers[str(path[1])] = [
                {"_broken": True} if i == path[2] else t for i, t in enumerate(timers[path[1]])
            ]
        else:
            named = out[str(top)] = dict(out[str(top)])
            named[str(path[1])] = {"_broken": True}
    return _without_broken(out), complete


def _without_broken(v: dict[str, Any]) -> dict[str, Any] | None:
    if not isinstance(v.get("states"), dict) or not isinstance(v.get("transitions"), list):
        return None
    v["states"] = {k: s for k, s in v["states"].items() if isinstance(s, dict)}
    v["transitions"] = [t for t in v["transitions"] if not t.get("_broken")]
    if isinstance(v.get("timers"), dict):
        v["timers"] = {
            k: [t for t in items if isinstance(t, dict) and not t.get("_broken")]
            for k, items in v["timers"].items()
            if isinstance(items, list)
        }
    if isinstance(v.get("deadlines"), dict):
        v["deadlines"] = {k: d for k, d in v["deadlines"].items() if not d.get("_broken")}
    return v
