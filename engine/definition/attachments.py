"""The ``format: attachment`` field type of data and payload schemas.

A field (or the ``items`` of an array field) with ``format: attachment`` holds attachment
values, objects ``{"sha256": <64 hex>, "name": ..., "type": <media type>, "size": <bytes>}``;
``accept`` lists the media types it takes (default: all of ``KNOWN_TYPES``) and ``max_bytes``
the size limit (default ``DEFAULT_MAX_BYTES``, at most ``MAX_BYTES``). The definition checker
(``engine/definition/checks_attachments.py``) checks both keywords; here a schema is read,
and ``engine/definition/schemas.py`` checks the values' shape (the ``attachment`` format).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ATTACHMENT",
    "IMAGE_TYPES",
    "JPEG",
    "KNOWN_TYPES",
    "PDF",
    "PNG",
    "WEBP",
    "DEFAULT_MAX_BYTES",
    "MAX_BYTES",
    "Rule",
    "attachment_values",
    "is_attachment",
    "is_digest",
    "replace_values",
    "rule_at",
    "rules_of",
]

ATTACHMENT = "attachment"
JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
KNOWN_TYPES = (JPEG, PNG, WEBP, PDF)  # what engine/blobs/sniff.py recognises
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP})
_DIGEST = re.compile(r"[0-9a-f]{64}")
DEFAULT_MAX_BYTES = 10 << 20  # 10 MiB
MAX_BYTES = 50 << 20  # the largest max_bytes a definition may give (the upload routes' ceiling)
# The body ceiling of a console form (its files together): rectification's evidence, 20 photos
# of 10 MiB, with room; a definition whose form may carry more (``form_bytes``) is refused at
# the form's ceiling (413, a page).
FORM_BYTES = 256 << 20


@dataclass(frozen=True)
class Rule:
    accept: tuple[str, ...] = KNOWN_TYPES
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def of(cls, schema: Mapping[str, Any]) -> Rule:
        accept = schema.get("accept")
        size = schema.get("max_bytes")
        return cls(
            tuple(accept) if isinstance(accept, list) and accept else KNOWN_TYPES,
            size if isinstance(size, int) and not isinstance(size, bool) else DEFAULT_MAX_BYTES,
        )

    def limit_text(self) -> str:
        mib = self.max_bytes / (1 << 20)
        return f"{mib:g} MB" if mib >= 1 else f"{self.max_bytes} bytes"


def is_digest(value: object) -> bool:
    """A SHA-256 in lower-case hex."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def is_attachment(value: Any) -> bool:
    """The shape of an attachment value (what ``format: attachment`` checks)."""
    return (
        isinstance(value, Mapping)
        and set(value) == {"sha256", "name", "type", "size"}
        and is_digest(value["sha256"])
        and isinstance(value["name"], str)
        and isinstance(value["type"], str)
        and isinstance(value["size"], int)
        and not isinstance(value["size"], bool)
        and value["size"] >= 0
    )


def _field_rule(schema: Any) -> Rule | None:
    """The rule of a field schema: ``format: attachment`` on it or on its ``items``."""
    if not isinstance(schema, Mapping):
        return None
    if schema.get("format") == ATTACHMENT:
        return Rule.of(schema)
    items = schema.get("items")
    if isinstance(items, Mapping) and items.get("format") == ATTACHMENT:
        return Rule.of(items)
    return None


def rules_of(schema: Any, prefix: str = "") -> Iterator[tuple[str, Rule]]:
    """(dotted field path, rule) of every attachment field under ``schema``'s properties."""
    if not isinstance(schema, Mapping):
        return
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return
    for name, sub in properties.items():
        path = f"{prefix}{name}"
        rule = _field_rule(sub)
        if rule is not None:
            yield path, rule
        else:
            yield from rules_of(sub, path + ".")


def form_bytes(schema: Any) -> float:
    """The most bytes the files of one payload of ``schema`` may take: the sum over its
    attachment fields of ``maxItems`` (1 for a single file) × ``max_bytes``; an array of
    files without ``maxItems`` is unbounded (infinity)."""
    total = 0.0
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    for sub in (properties or {}).values():
        rule = _field_rule(sub)
        if rule is None:
            total += form_bytes(sub)
        elif sub.get("format") == ATTACHMENT:
            total += rule.max_bytes
        else:
            most = sub.get("maxItems")
            total += rule.max_bytes * most if isinstance(most, int) else float("inf")
    for part in schema.get("allOf", []) if isinstance(schema, Mapping) else []:
        total = max(total, form_bytes(part))
    return total


def rule_at(schema: Any, field: str) -> Rule | None:
    """The rule of the field at dotted path ``field`` (``evidence.photos``), or None."""
    return dict(rules_of(schema)).get(field)


def attachment_values(schema: Any, value: Any, path: str = "$") -> Iterator[tuple[str, Any, Rule]]:
    """(JSON path, value, rule) of every value in ``value`` that ``schema`` declares an
    attachment: under ``properties`` and ``items``."""
    if not isinstance(schema, Mapping):
        return
    if schema.get("format") == ATTACHMENT:
        yield path, value, Rule.of(schema)
        return
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        for index, each in enumerate(value):
            yield from attachment_values(items, each, f"{path}[{index}]")
    properties = schema.get("properties")
    if isinstance(value, Mapping) and isinstance(properties, Mapping):
        for name, sub in properties.items():
            if name in value:
                yield from attachment_values(sub, value[name], f"{path}.{name}")


def replace_values(
    schema: Any, value: Any, change: Callable[[Any, str], Any], field: str = ""
) -> Any:
    """``value`` with every attachment value ``v`` that ``schema`` declares replaced by
    ``change(v, dotted field path)``: the same walk as ``attachment_values``."""
    if not isinstance(schema, Mapping):
        return value
    if schema.get("format") == ATTACHMENT:
        return change(value, field)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        value = [replace_values(items, each, change, field) for each in value]
    properties = schema.get("properties")
    if isinstance(value, Mapping) and isinstance(properties, Mapping):
        value = {
            key: replace_values(properties[key], each, change, f"{field}.{key}" if field else key)
            if key in properties
            else each
            for key, each in value.items()
        }
    return value
