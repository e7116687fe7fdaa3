"""jsonschema's error messages rewritten as sentences naming the key, for people.

``'maybe' is not of type 'boolean'`` says neither which key nor what a boolean is in YAML;
``worded(error)`` says ``final must be true or false, not the string 'maybe'``. Used for the
definition's own shape (``workflow.schema.json``) and for the embedded schemas checked against
the draft 2020-12 meta-schema. A message this module does not know keeps jsonschema's words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

__all__ = ["JSON_TYPES", "a_value", "deepest", "dotted", "key_of", "type_words", "worded"]

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_TYPE_WORDS = {
    "array": "a list",
    "boolean": "true or false",
    "integer": "an integer",
    "null": "null",
    "number": "a number",
    "object": "a mapping",
    "string": "a string",
}


def type_words(types: str | Sequence[str]) -> str:
    """``["string", "null"]`` → ``a string or null``."""
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_WORDS.get(n, repr(n)) for n in names)


def a_value(value: Any) -> str:
    """A value as a sentence names it: ``the string 'maybe'``, ``the integer 3``, ``a list``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def dotted(path: Sequence[str | int], root: str = "the definition") -> str:
    """``("states", "a", "final")`` → ``states.a.final``; ``()`` → ``the definition``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or root


def key_of(path: Sequence[str | int], root: str = "the definition") -> str:
    """The key a value sits under, with its list index: ``roles[0]``, ``final``."""
    parts = list(path)
    tail = ""
    while parts and isinstance(parts[-1], int):
        tail = f"[{parts.pop()}]" + tail
    return f"{parts[-1]}{tail}" if parts else dotted(path, root)


def deepest(error: ValidationError) -> ValidationError:
    """The error inside ``oneOf``/``anyOf`` that says most (jsonschema's own ``best_match``)."""
    while error.context:
        error = best_match(error.context)
    return error


def worded(error: ValidationError, root: str = "the definition") -> str:
    """The message of ``error`` as a sentence (of its deepest part, for oneOf/anyOf);
    ``root`` names the instance itself."""
    where = tuple(error.absolute_path)
    named_type = where and where[-1] == "type" and isinstance(error.instance, str)
    if error.validator in ("anyOf", "oneOf", "enum") and named_type:
        # the meta-schema's "type": one of the type names, or a list of them
        return f"type {error.instance!r} is not a JSON type ({', '.join(JSON_TYPES)})"
    error = deepest(error)
    where = tuple(error.absolute_path)
    words = _WORDS.get(str(error.validator))
    sentence = words(error, where, root) if words is not None else None
    return sentence or str(error.message)


Words = Callable[[ValidationError, tuple[str | int, ...], str], str | None]


def _type(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    return f"{key_of(where, root)} must be {type_words(error.validator_value)}, " + (
        f"not {a_value(error.instance)}"
    )


def _required(error: ValidationError, where: tuple[str | int, ...], root: str) -> str | None:
    if not isinstance(error.instance, dict):
        return None
    missing = [name for name in error.validator_value if name not in error.instance]
    return "; ".join(f"{dotted(where, root)} needs a {name!r} key" for name in missing)


def _enum(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    allowed = ", ".join(map(repr, error.validator_value))
    return f"{key_of(where, root)} must be one of {allowed}, not {a_value(error.instance)}"


def _const(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    expected = error.validator_value
    return f"{key_of(where, root)} must be {expected!r}, not {a_value(error.instance)}"


def _least(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    limit = error.validator_value
    least = f"{limit} or more" if error.validator == "minimum" else f"more than {limit}"
    return f"{key_of(where, root)} must be {least}, not {error.instance}"


def _count(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    kind, limit = str(error.validator), error.validator_value
    what = "character" if "Length" in kind else ("key" if "Properties" in kind else "item")
    bound = "at least" if kind.startswith("min") else "at most"
    return f"{key_of(where, root)} must have {bound} {limit} {what}{'s' if limit != 1 else ''}"


def _unique(error: ValidationError, where: tuple[str | int, ...], root: str) -> str:
    return f"{key_of(where, root)} lists the same value twice"


_WORDS: dict[str, Words] = {
    "type": _type,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "minimum": _least,
    "exclusiveMinimum": _least,
    "minLength": _count,
    "minItems": _count,
    "minProperties": _count,
    "maxLength": _count,
    "maxItems": _count,
    "maxProperties": _count,
    "uniqueItems": _unique,
}
