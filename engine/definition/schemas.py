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

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from re2 import _re2  # the binding itself: the wrapper's span decoding costs ~20 µs a match
from referencing import Registry

from engine.definition.attachments import ATTACHMENT, is_attachment

__all__ = ["FORMATS", "SchemaValidator", "matcher", "pattern_error", "search", "validator"]

# date-time needs rfc3339-validator installed (a dependency): without it jsonschema skips it.
# A copy of draft 2020-12's checker (never jsonschema's own, shared by every user of it), with
# Qingliu's ``attachment`` format: {sha256, name, type, size} (engine/definition/attachments.py).
FORMATS = FormatChecker(list(Draft202012Validator.FORMAT_CHECKER.checkers))
FORMATS.checkers = {**Draft202012Validator.FORMAT_CHECKER.checkers}
FORMATS.checks(ATTACHMENT)(is_attachment)
_NOTHING_TO_RETRIEVE: Registry[Any] = Registry()
_OPTIONS = _re2.RE2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr
_OPTIONS.never_capture = True  # only "is there a match" is asked: no group spans
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED


class PatternError(ValueError):
    """RE2 cannot compile the pattern (the message says why)."""


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    regexp = _re2.RE2(pattern.encode("utf-8", "surrogatepass"), _OPTIONS)
    if not regexp.ok():
        reason = regexp.error()
        raise PatternError(
            reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason
        )
    return regexp


def pattern_error(pattern: str) -> str | None:
    """Why RE2 cannot run ``pattern``, or None when it can."""
    try:
        _compiled(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def matcher(pattern: str) -> Callable[[str], bool]:
    """``lambda text: re.search(pattern, text) is not None``, as JSON Schema's ``pattern``
    means it, in time linear in the text. Raises ``PatternError`` for a pattern RE2 refuses."""
    match = _compiled(pattern).Match

    def found(text: str) -> bool:
        # a lone surrogate (JSON allows "\ud800") passes as bytes that match no character
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(match(_UNANCHORED, encoded, 0, len(encoded))[0][0] != -1)

    return found


def search(pattern: str, text: str) -> bool:
    """``re.search(pattern, text) is not None``, in linear time (see ``matcher``)."""
    return matcher(pattern)(text)


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
