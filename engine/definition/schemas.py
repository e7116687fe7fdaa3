"""The one way Qingliu builds a JSON Schema validator for a schema embedded in a definition.

Three things differ from ``Draft202012Validator(schema)``:

- **nothing is ever retrieved**: references resolve in an empty ``referencing.Registry`` (plus
  the JSON Schema meta-schemas jsonschema ships), so a ``$ref`` that is not local cannot reach
  the network or the file system at validation time; it fails instead. ``validate`` refuses such
  refs in a definition before that (``engine/definition/schema_rules.py``).
- **patterns run on RE2** (``google-re2``): matching takes time linear in the text, so no
  ``pattern`` or ``patternProperties`` key can backtrack for seconds (``^(a+)+$``). A pattern
  RE2 cannot compile (backreferences, lookaround) is a definition problem, never reached here.
- **formats are checked** (``date``, ``date-time``, ``email``, ``ipv4``, ``uuid`` ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry

__all__ = ["FORMATS", "SchemaValidator", "pattern_error", "search", "validator"]

# date-time needs rfc3339-validator installed (a dependency): without it jsonschema skips it.
FORMATS = Draft202012Validator.FORMAT_CHECKER
_NOTHING_TO_RETRIEVE: Registry[Any] = Registry()
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def pattern_error(pattern: str) -> str | None:
    """Why RE2 cannot run ``pattern``, or None when it can."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


def search(pattern: str, text: str) -> bool:
    """``re.search(pattern, text)``, as JSON Schema's ``pattern`` means it, in linear time."""
    return _compiled(pattern).search(text) is not None


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's own keyword (same messages), its patternProperties matched by RE2."""
    if not validator.is_type(instance, "object"):
        return
    named = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = {
        key
        for key in instance
        if key not in named and not any(search(pattern, key) for pattern in patterns)
    }
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            listed = ", ".join(repr(each) for each in sorted(patterns))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            joined = ", ".join(repr(each) for each in sorted(extras, key=str))
            yield ValidationError(
                f"Additional properties are not allowed ({joined} {verb} unexpected)"
            )


SchemaValidator: Any = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def validator(schema: Mapping[str, Any] | bool) -> Any:
    """A validator for ``schema``: formats checked, patterns on RE2, nothing retrieved."""
    return SchemaValidator(schema, format_checker=FORMATS, registry=_NOTHING_TO_RETRIEVE)
