"""The ``format: attachment`` field type in embedded schemas (``engine/definition/attachments.py``):
``accept`` lists media types Qingliu can recognise from the bytes, ``max_bytes`` is a whole
number of bytes from 1 to ``MAX_BYTES``; both only beside ``format: attachment``, whose values
are objects (no other ``type``). Attachments are not ``confidential`` (their digests are kept
in the history as they are)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.attachments import ATTACHMENT, KNOWN_TYPES, MAX_BYTES
from engine.definition.loader import Document
from engine.definition.schema_rules import embedded_schemas, subschemas
from engine.errors import Problem

__all__ = ["attachment_problems"]

_KEYWORDS = ("accept", "max_bytes")


def attachment_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    for path, schema in embedded_schemas(v):
        for at, sub in subschemas(schema, path):
            if sub.get("format") == ATTACHMENT:
                yield from _attachment(doc, at, sub)
            else:
                for key in _KEYWORDS:
                    if key in sub:
                        yield doc.problem(
                            (*at, key), f"{key} goes with format: attachment only", at_key=True
                        )
    props = (v.get("data_schema") or {}).get("properties") if isinstance(v, Mapping) else None
    for name, prop in (props or {}).items() if isinstance(props, Mapping) else ():
        if isinstance(prop, Mapping) and "confidential" in prop and _holds_attachments(prop):
            yield doc.problem(
                ("data_schema", "properties", name, "confidential"),
                "a confidential field may not hold attachments (their digests are not sealed)",
                at_key=True,
            )


def _holds_attachments(schema: Mapping[str, Any]) -> bool:
    return any(sub.get("format") == ATTACHMENT for _, sub in subschemas(schema, ()))


def _attachment(doc: Document, at: tuple[Any, ...], sub: Mapping[str, Any]) -> Iterator[Problem]:
    kind = sub.get("type")
    if kind is not None and kind != "object":
        yield doc.problem(
            (*at, "type"), "an attachment is an object: type must be object or absent"
        )
    if "accept" in sub:
        accept = sub["accept"]
        known = ", ".join(KNOWN_TYPES)
        if not isinstance(accept, list) or not accept:
            yield doc.problem(
                (*at, "accept"), f"accept is a non-empty list of media types ({known})"
            )
        else:
            for i, media in enumerate(accept):
                if media not in KNOWN_TYPES:
                    yield doc.problem(
                        (*at, "accept", i),
                        f"{media!r} is not a media type Qingliu tells from the bytes ({known})",
                    )
    if "max_bytes" in sub:
        size = sub["max_bytes"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BYTES:
            yield doc.problem(
                (*at, "max_bytes"), f"max_bytes is a whole number of bytes from 1 to {MAX_BYTES}"
            )
