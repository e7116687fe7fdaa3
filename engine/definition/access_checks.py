"""Validation of what a definition says about access: the ``access`` block, and merged payloads
that would write what a guard judges or what a handler owns (``engine.definition.fields``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.fields import read_only_fields, reads
from engine.definition.loader import Document
from engine.errors import Problem

__all__ = ["access_problems"]


def _props(schema: Any) -> Mapping[str, Any]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def access_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    data_props = _props(v.get("data_schema"))
    for i, name in enumerate((v.get("access") or {}).get("parties", ())):
        if name not in data_props:
            yield doc.problem(
                ("access", "parties", i), f"party field {name!r} is not in data_schema.properties"
            )
    owned = read_only_fields(v.get("data_schema"))
    for i, t in enumerate(v.get("transitions", ())):
        if not t.get("merge_payload"):
            continue
        judged = reads(t.get("when"))
        for name in _props(t.get("payload_schema")):
            at = ("transitions", i, "payload_schema", "properties", name)
            if name in judged:
                yield doc.problem(
                    at,
                    f"the payload would overwrite {name!r}, which this transition's when reads: "
                    "a guard judges the case as it is, so the payload may not set what it judges",
                    at_key=True,
                )
            if name in owned:
                yield doc.problem(
                    at,
                    f"{name!r} is readOnly in data_schema (a handler owns it): a merged payload "
                    "may not set it",
                    at_key=True,
                )
