"""Forms generated from a transition's ``payload_schema``, and the submitted form back to JSON.

``fields(schema)`` reads the schema (``allOf`` parts merged) into ``Field``s: the property's
``title`` (else its ``description``, else its name) as the label, the ``description`` as a hint
when a title is there, ``enum`` (titled by ``x-titles`` or ``oneOf`` const/title) as a select,
``format: date`` / ``date-time`` as date and datetime-local inputs, ``format: attachment``
as a file input (``multiple`` for an array, ``accept`` from the field), integers and numbers as
number inputs, booleans as a checkbox, arrays of strings as a textarea (one item a line),
arrays of enums as checkboxes, arrays of objects as rows of fieldsets, nested objects as a
fieldset, and a ``const`` (the transition's own choice, e.g. ``mode: ban``) as a fixed value.

An input's name is the JSON path of its value without ``$.`` (``decision.number``,
``units[0].name``), so an error's path finds its input (``placed``). ``payload(fields, form)``
is the reverse: values typed as the schema says, empty optional inputs left out, date-times
read in the calendar's time zone. The engine validates the payload; the form does not judge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.console.form_errors import placed, worded
from engine.console.form_fields import Choice, Field
from engine.definition.attachments import ATTACHMENT, Rule
from engine.errors import FieldError

__all__ = ["Choice", "Field", "choices_of", "expand", "fields", "merged_schema", "payload"]
__all__ += ["has_files", "placed", "worded"]

Values = Mapping[str, Sequence[str]]


def merged_schema(schema: Any) -> dict[str, Any]:
    """``schema`` with its ``allOf`` parts folded in (properties merged, required united)."""
    if not isinstance(schema, Mapping):
        return {}
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props: dict[str, Any] = {k: v for k, v in dict(out.get("properties") or {}).items()}
    required = list(out.get("required") or [])
    for part in schema.get("allOf") or []:
        more = merged_schema(part)
        for name, sub in (more.get("properties") or {}).items():
            before = props.get(name)
            if isinstance(before, Mapping) and isinstance(sub, Mapping):
                props[name] = {**before, **sub}
            elif isinstance(sub, Mapping) or name not in props:
                props[name] = sub
        required += [r for r in more.get("required") or [] if r not in required]
        for key, value in more.items():
            if key not in ("properties", "required"):
                out.setdefault(key, value)
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def _type(schema: Mapping[str, Any]) -> str | None:
    found = schema.get("type")
    if isinstance(found, list):
        found = next((t for t in found if t != "null"), None)
    return found if isinstance(found, str) else None


def _token(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def choices_of(schema: Mapping[str, Any]) -> tuple[Choice, ...]:
    titles = schema.get("x-titles")
    titles = titles if isinstance(titles, Mapping) else {}
    if "enum" in schema:
        return tuple(
            Choice(_token(v), str(titles.get(_token(v), v)), v) for v in schema["enum"] or []
        )
    options = [o for o in schema.get("oneOf") or [] if isinstance(o, Mapping) and "const" in o]
    return tuple(
        Choice(_token(o["const"]), str(o.get("title", o["const"])), o["const"]) for o in options
    )


def _kind(schema: Mapping[str, Any]) -> str:
    if "const" in schema:
        return "fixed"
    if choices_of(schema):
        return "select"
    kind = _type(schema)
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if kind == "object" or "properties" in schema:
        return "group"
    if kind == "array":
        return _array_kind(merged_schema(schema.get("items")))
    return _string_kind(schema)


def _array_kind(items: Mapping[str, Any]) -> str:
    if items.get("format") == ATTACHMENT:
        return "files"
    if choices_of(items):
        return "multi"
    if _type(items) == "object" or "properties" in items:
        return "rows"
    return "lines"


def _string_kind(schema: Mapping[str, Any]) -> str:
    if schema.get("format") == ATTACHMENT:
        return "file"
    if schema.get("format") == "date":
        return "date"
    if schema.get("format") == "date-time":
        return "datetime"
    long = schema.get("maxLength")
    if "pattern" not in schema and (long is None or (isinstance(long, int) and long > 200)):
        return "textarea"
    return "text"


def fields(schema: Any, prefix: str = "") -> tuple[Field, ...]:
    """The inputs of an object schema (none for no schema, ``true`` or ``false``)."""
    merged = merged_schema(schema)
    required = set(merged.get("required") or [])
    out = []
    for name, sub in (merged.get("properties") or {}).items():
        sub = merged_schema(sub) if isinstance(sub, Mapping) else {}
        path = f"{prefix}.{name}" if prefix else name
        out.append(_field(path, name, sub, name in required))
    return tuple(out)


def _field(path: str, name: str, schema: Mapping[str, Any], required: bool) -> Field:
    title = schema.get("title")
    described = str(schema.get("description") or "")
    label = str(title) if title else (described or name)
    hint = described if title else ""
    kind = _kind(schema)
    made = Field(path, label, kind, required, hint)
    if kind == "fixed":
        return replace(made, fixed=schema["const"])
    if kind in ("file", "files"):
        rule = Rule.of(schema if kind == "file" else merged_schema(schema.get("items")))
        return replace(made, accept=rule.accept)
    if kind == "select":
        return replace(made, choices=choices_of(schema))
    if kind == "multi":
        return replace(made, choices=choices_of(merged_schema(schema.get("items"))))
    if kind == "group":
        return replace(made, children=fields(schema, path))
    if kind == "rows":
        least = schema.get("minItems")
        row = fields(schema.get("items"), "")
        return replace(made, children=row, min_rows=least if isinstance(least, int) else 0)
    return made


def has_files(given: Iterable[Field]) -> bool:
    return any(f.kind in ("file", "files") or has_files(f.children) for f in given)


# -- rows of arrays of objects ------------------------------------------------------------------

_INDEX = re.compile(r"^\[(\d+)\]")


def _row_indices(name: str, values: Values) -> list[int]:
    found = set()
    for key, given in values.items():
        if key.startswith(name + "["):
            match = _INDEX.match(key[len(name) :])
            if match:
                found.add(int(match[1]))
                if any(v.strip() for v in given):
                    found.add(-1 - int(match[1]))  # marks a row with something filled in
    return sorted(found)


def _renamed(children: Iterable[Field], prefix: str) -> tuple[Field, ...]:
    out = []
    for child in children:
        name = f"{prefix}.{child.name}"
        kids = child.children if child.kind == "rows" else _renamed(child.children, prefix)
        out.append(replace(child, name=name, children=kids))
    return tuple(out)


def _row(f: Field, index: int) -> Field:
    name = f"{f.name}[{index}]"
    return Field(name, f"第 {index + 1} 项", "group", False, children=_renamed(f.children, name))


def expand(given: Sequence[Field], values: Values, *, spare: bool = True) -> tuple[Field, ...]:
    """The fields with each array of objects as concrete rows: those ``values`` has (the
    submitted form), at least ``minItems`` and one, and (``spare``) one blank row more."""
    out = []
    for f in given:
        if f.kind == "group":
            out.append(replace(f, children=expand(f.children, values, spare=spare)))
        elif f.kind == "rows":
            seen = _row_indices(f.name, values)
            present = [i for i in seen if i >= 0]
            filled = [-1 - i for i in seen if i < 0]
            if spare:
                count = max(max(filled, default=-1) + 1, f.min_rows, 1) + 1
            else:
                count = max(present, default=-1) + 1
            rows = tuple(
                replace(_row(f, i), children=expand(_row(f, i).children, values, spare=spare))
                for i in range(count)
            )
            out.append(replace(f, children=rows))
        else:
            out.append(f)
    return tuple(out)


# -- the submitted form back to the payload -----------------------------------------------------


@dataclass
class _Reading:
    values: Values
    zone: ZoneInfo
    errors: list[FieldError] = field(default_factory=list)
    uploads: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)

    def one(self, name: str) -> str:
        found = self.values.get(name) or []
        return found[0].strip() if found else ""

    def fault(self, name: str, message: str) -> None:
        self.errors.append(FieldError("$." + name, message))


def payload(
    given: Sequence[Field],
    values: Values,
    zone: ZoneInfo,
    uploads: Mapping[str, list[dict[str, Any]]] | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The JSON payload the form ``values`` stand for, and the inputs that could not be read
    (a number that is not one): those paths, like the engine's, find their inputs.
    ``uploads``: the attachment values of the files each file input carried (uploaded by the
    route through ``engine.attachments`` first)."""
    reading = _Reading(values, zone, uploads=uploads or {})
    out = _object(expand(given, values, spare=False), reading)
    return out, reading.errors


def _object(given: Sequence[Field], reading: _Reading) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in given:
        key = f.name.rsplit(".", 1)[-1]
        missing = object()
        value = _value(f, reading, missing)
        if value is not missing:
            out[key] = value
    return out


def _value(f: Field, reading: _Reading, missing: Any) -> Any:
    if f.kind in ("file", "files"):
        got = reading.uploads.get(f.name) or []
        if not got:
            return missing
        return got if f.kind == "files" else got[0]
    if f.kind in ("fixed", "group", "rows", "checkbox", "multi", "lines"):
        return _structured(f, reading, missing)
    text = reading.one(f.name)
    if not text:
        return missing
    if f.kind == "select":
        return next((c.raw for c in f.choices if c.value == text), text)
    if f.kind in ("integer", "number"):
        return _number(f, text, reading, missing)
    if f.kind == "datetime":
        try:
            return datetime.fromisoformat(text).replace(tzinfo=reading.zone).isoformat()
        except ValueError:
            reading.fault(f.name, "日期时间格式不正确")
            return missing
    return text


def _structured(f: Field, reading: _Reading, missing: Any) -> Any:  # noqa: PLR0911 - per kind
    if f.kind == "fixed":
        return f.fixed
    if f.kind == "group":
        inner = _object(f.children, reading)
        return inner if inner or f.required else missing
    if f.kind == "rows":
        rows = [_object(row.children, reading) for row in f.children]
        rows = [r for r in rows if r]
        return rows if rows else missing
    text = reading.one(f.name)
    if f.kind == "checkbox":
        return True if text else (False if f.required else missing)
    if f.kind == "multi":
        chosen = set(reading.values.get(f.name) or [])
        picked = [c.raw for c in f.choices if c.value in chosen]
        return picked if picked else missing
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines if lines else missing


def _number(f: Field, text: str, reading: _Reading, missing: Any) -> Any:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # nan, inf, 1e400: JSON holds none of them
        reading.fault(f.name, "请输入整数" if f.kind == "integer" else "请输入数字")
        return missing
    if number.is_integer():
        return int(number)
    if f.kind == "integer":
        reading.fault(f.name, "请输入整数")
        return missing
    return number
