"""JSON Schema checks with a quick "certainly valid" in front of jsonschema.

jsonschema 4.x walks a schema with generic machinery: ~20-40 µs for a small object, and the
engine checks two or three schemas per transition (payload, ``when``, data), nearly always finding
the instance valid. ``SchemaCheck`` compiles a schema made only of the keywords listed in
``_COMPILERS`` into a plain Python predicate that answers True only when jsonschema (Draft 2020-12,
with its format checker, as ``engine.definition.schemas.validator`` builds it) would report no
error. On False, and always for schemas with any other
keyword, jsonschema decides and reports the errors. The predicate can therefore save time but
never change a verdict or an error message; ``tests/engine/definition/test_quickcheck.py``
checks it against jsonschema on generated instances. Where the predicate is unsure (``1``
against ``enum: [1.0]``) it answers False and jsonschema decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.definition.schemas import FORMATS, matcher, pattern_error, validator
from engine.errors import FieldError

__all__ = ["SchemaCheck", "quick_predicate", "schema_errors"]

Predicate = Callable[[Any], bool]

# Keywords that assert nothing.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "confidential",  # engine.definition.fields: who may read the field
        "accept",  # format: attachment (engine.definition.attachments): checked on upload
        "max_bytes",
    }
)
_FORMATS = FORMATS
_SCALARS = (str, int, float, bool, type(None))


def schema_errors(checker: Any, instance: Any) -> list[FieldError]:
    """Every violation of ``instance`` against the validator ``checker``, with JSON paths, in
    path order."""
    errors = [FieldError(e.json_path, e.message) for e in checker.iter_errors(instance)]
    return sorted(errors, key=lambda e: e.json_path)


class SchemaCheck:
    """One schema: jsonschema's validator and, where the schema allows, the quick predicate."""

    def __init__(self, schema: Mapping[str, Any] | bool) -> None:
        self.validator = validator(schema)
        self.quick = quick_predicate(schema)

    def errors(self, instance: Any) -> list[FieldError]:
        if self.quick is not None and self.quick(instance):
            return []
        return schema_errors(self.validator, instance)

    def is_valid(self, instance: Any) -> bool:
        if self.quick is not None and self.quick(instance):
            return True
        return bool(self.validator.is_valid(instance))


def quick_predicate(schema: Any) -> Predicate | None:
    """A predicate that is True only for instances valid against ``schema``; None when the
    schema uses a keyword outside the supported set."""
    if schema is True or schema == {}:
        return lambda _: True
    if not isinstance(schema, Mapping):
        return None  # False, or not a schema at all: let jsonschema say so
    checks: list[Predicate] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):  # x-titles: labels for forms
            continue
        compiler = _COMPILERS.get(keyword)
        check = compiler(value, schema) if compiler is not None else None
        if check is None:
            return None
        checks.append(check)
    return _every(checks)


def _every(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if not checks:
        return lambda _: True

    def check(x: Any) -> bool:
        for one in checks:  # noqa: SIM110 - a loop is cheaper than all() over a generator
            if not one(x):
                return False
        return True

    return check


# -- types (jsonschema's Draft 2020-12 type checker) ----------------------------------------


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_TYPES: dict[str, Predicate] = {
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _type(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(n in _TYPES for n in names):
        return None
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


# -- objects ------------------------------------------------------------------------------------


def _properties(value: Any, schema: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, Mapping):
        return None
    subs: dict[str, Predicate] = {}
    for name, sub_schema in value.items():
        compiled = quick_predicate(sub_schema)
        if compiled is None:
            return None
        subs[name] = compiled
    # Members not named in "properties" answer to "additionalProperties" (anything if absent).
    extra = schema.get("additionalProperties", True)
    found = (lambda _: False) if extra is False else quick_predicate(extra)
    if found is None:
        return None
    other: Predicate = found

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for key, item in x.items():
            sub = subs.get(key)
            if not (sub(item) if sub is not None else other(item)):
                return False
        return True

    return check


def _additional_alone(value: Any, schema: Mapping[str, Any]) -> Predicate | None:
    """``additionalProperties`` without ``properties``: it applies to every member."""
    if "properties" in schema:
        return lambda _: True  # compiled with "properties"
    if value is False:
        return lambda x: not isinstance(x, dict) or not x
    sub = quick_predicate(value)
    if sub is None:
        return None
    return lambda x: not isinstance(x, dict) or all(sub(v) for v in x.values())


def _required(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        return None
    names = tuple(value)
    return lambda x: not isinstance(x, dict) or all(n in x for n in names)


# -- scalars ------------------------------------------------------------------------------------


def _same_scalar(x: Any, allowed: Any) -> bool:
    return type(x) is type(allowed) and x == allowed


def _enum(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, list) or not all(isinstance(v, _SCALARS) for v in value):
        return None
    options = tuple(value)
    return lambda x: any(_same_scalar(x, v) for v in options)


def _const(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, _SCALARS):
        return None
    return lambda x: _same_scalar(x, value)


def _bound(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Predicate | None]:
    def compiler(value: Any, _: Mapping[str, Any]) -> Predicate | None:
        if not _is_number(value):
            return None
        return lambda x: not _is_number(x) or compare(x, value)

    return compiler


def _length(compare: Callable[[int, int], bool]) -> Callable[[Any, Any], Predicate | None]:
    def compiler(value: Any, _: Mapping[str, Any]) -> Predicate | None:
        if not _is_integer(value):
            return None
        return lambda x: not isinstance(x, str) or compare(len(x), value)

    return compiler


def _pattern(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, str) or pattern_error(value) is not None:
        return None
    found = matcher(value)  # RE2, as the validator's own ``pattern``: linear time
    return lambda x: not isinstance(x, str) or found(x)


def _format(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    if not isinstance(value, str):
        return None
    return lambda x: _FORMATS.conforms(x, value)


# -- arrays and combinators ---------------------------------------------------------------------


def _items(value: Any, schema: Mapping[str, Any]) -> Predicate | None:
    if "prefixItems" in schema:
        return None
    sub = quick_predicate(value)
    if sub is None:
        return None
    return lambda x: not isinstance(x, list) or all(sub(v) for v in x)


def _unique(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    """Sure only for arrays of strings, or of integers (never booleans): set semantics there
    are jsonschema's; anything else is left to it."""
    if value is False:
        return lambda _: True
    if value is not True:
        return None

    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        kinds = {type(v) for v in x}
        if kinds <= {str} or kinds <= {int}:
            return len(set(x)) == len(x)
        return False

    return check


def _count(compare: Callable[[int, int], bool]) -> Callable[[Any, Any], Predicate | None]:
    def compiler(value: Any, _: Mapping[str, Any]) -> Predicate | None:
        if not _is_integer(value):
            return None
        return lambda x: not isinstance(x, list) or compare(len(x), value)

    return compiler


def _all_of(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    subs = [quick_predicate(s) for s in value] if isinstance(value, list) and value else [None]
    if any(s is None for s in subs):
        return None
    return _every([s for s in subs if s is not None])


def _any_of(value: Any, _: Mapping[str, Any]) -> Predicate | None:
    subs = [quick_predicate(s) for s in value] if isinstance(value, list) and value else [None]
    # An unsupported branch would need jsonschema: answering "not sure" there is still safe.
    checks = [s for s in subs if s is not None]
    if not checks:
        return None
    return lambda x: any(c(x) for c in checks)


def _if(value: Any, schema: Mapping[str, Any]) -> Predicate | None:
    """``if``/``then``/``else``: whether ``if`` holds must be known exactly, so a quick "not
    sure" there is settled by jsonschema on the ``if`` schema alone (which has no ``$ref``, or
    it would not compile)."""
    test = quick_predicate(value)
    then = quick_predicate(schema.get("then", True))
    otherwise = quick_predicate(schema.get("else", True))
    if test is None or then is None or otherwise is None:
        return None
    exact = validator(value)
    quick_test: Predicate = test
    yes: Predicate = then
    no: Predicate = otherwise

    def check(x: Any) -> bool:
        holds = quick_test(x) or exact.is_valid(x)
        return yes(x) if holds else no(x)

    return check


def _with_if(_: Any, schema: Mapping[str, Any]) -> Predicate | None:
    """``then`` and ``else`` are applied by ``if`` and assert nothing without it."""
    return lambda _: True


_COMPILERS: dict[str, Callable[[Any, Mapping[str, Any]], Predicate | None]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional_alone,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "minimum": _bound(lambda x, v: x >= v),
    "maximum": _bound(lambda x, v: x <= v),
    "exclusiveMinimum": _bound(lambda x, v: x > v),
    "exclusiveMaximum": _bound(lambda x, v: x < v),
    "minLength": _length(lambda n, v: n >= v),
    "maxLength": _length(lambda n, v: n <= v),
    "pattern": _pattern,
    "format": _format,
    "items": _items,
    "uniqueItems": _unique,
    "minItems": _count(lambda n, v: n >= v),
    "maxItems": _count(lambda n, v: n <= v),
    "allOf": _all_of,
    "anyOf": _any_of,
    "if": _if,
    "then": _with_if,
    "else": _with_if,
}
