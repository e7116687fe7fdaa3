"""Validation of what a definition says about access: the ``access`` block, and merged payloads
that would write what a guard judges or what a handler owns (``engine.definition.fields``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.fields import CONFIDENTIAL, read_only_fields, reads
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
    yield from _confidential_problems(doc, data_props)
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


_MARK_KEYS = frozenset({"readers", "anonymous", "until"})


def _confidential_problems(doc: Document, data_props: Mapping[str, Any]) -> Iterator[Problem]:
    """``confidential`` marks: their keys, and an ``until`` that names a date field."""
    for name, prop in data_props.items():
        mark = prop.get(CONFIDENTIAL) if isinstance(prop, Mapping) else None
        if mark is None:
            continue
        at = ("data_schema", "properties", name, CONFIDENTIAL)
        if not isinstance(mark, Mapping):
            yield doc.problem(at, "confidential is {readers: [...], anonymous: [...], until: ...}")
            continue
        for key in sorted(set(mark) - _MARK_KEYS):
            yield doc.problem((*at, key), f"unknown key {key!r} (readers, anonymous, until)")
        for key in ("readers", "anonymous"):
            roles = mark.get(key, [])
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                yield doc.problem((*at, key), f"{key} is a list of role names")
        if "until" in mark:
            yield from _until_problems(doc, (*at, "until"), mark["until"], data_props)


def _until_problems(
    doc: Document, at: tuple[Any, ...], until: Any, data_props: Mapping[str, Any]
) -> Iterator[Problem]:
    field = until.get("data") if isinstance(until, Mapping) else None
    if not isinstance(field, str) or set(until) != {"data"}:
        yield doc.problem(at, "until is {data: <a date field of data_schema>}")
        return
    prop = data_props.get(field)
    if not isinstance(prop, Mapping):
        yield doc.problem((*at, "data"), f"until field {field!r} is not in data_schema.properties")
    elif prop.get("format") not in ("date", "date-time"):
        yield doc.problem(
            (*at, "data"), f"until field {field!r} must have format: date or date-time"
        )
