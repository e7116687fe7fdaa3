"""What a definition's schemas say about its data fields, beyond validation.

- ``confidential`` (a data-schema annotation on a top-level property) marks personal data:
  ``{readers: [roles], anonymous: [roles]}``. Only ``readers`` (and whoever opened the case)
  read the field; when its value is an object with ``anonymous: true``, only the ``anonymous``
  roles (the receiving desk) do. Everyone else gets it redacted. ``until: {data: field}``
  releases it from the date that data field holds (``format: date`` or ``date-time``) to
  everyone who reads the case: e.g. spot-check targets hidden from the inspected county until
  the inspection day. An anonymous value is never released.
- ``readOnly: true`` (JSON Schema's own annotation) marks a field that handlers own: a caller
  may not set it when opening a case nor through a merged payload.
- ``reads(when)``: the top-level data fields a ``when`` schema looks at, so that validation can
  refuse a merged payload that would overwrite what its own guard judges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["Confidential", "confidential_fields", "read_only_fields", "readers_of", "reads"]

CONFIDENTIAL = "confidential"
_COMBINATORS = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True)
class Confidential:
    readers: frozenset[str]
    anonymous: frozenset[str]
    until: str | None = None  # the data field whose date releases it

    def readable_by(self, role: str, value: Any, released: bool = False) -> bool:
        if isinstance(value, Mapping) and value.get("anonymous") is True:
            return role in self.anonymous
        return released or role in self.readers or role in self.anonymous

    def released(self, data: Mapping[str, Any], today: date) -> bool:
        """Its ``until`` date has come (a date or a date-time's date, as written)."""
        if self.until is None:
            return False
        value = data.get(self.until)
        if not isinstance(value, str) or len(value) < 10:
            return False
        try:
            return date.fromisoformat(value[:10]) <= today
        except ValueError:
            return False


def _properties(schema: Any) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    props = schema.get("properties")
    return props if isinstance(props, Mapping) else {}


def confidential_fields(data_schema: Any) -> dict[str, Confidential]:
    out: dict[str, Confidential] = {}
    for name, prop in _properties(data_schema).items():
        mark = prop.get(CONFIDENTIAL) if isinstance(prop, Mapping) else None
        if isinstance(mark, Mapping):
            until = mark.get("until")
            out[str(name)] = Confidential(
                frozenset(mark.get("readers") or ()),
                frozenset(mark.get("anonymous") or ()),
                str(until["data"]) if isinstance(until, Mapping) and "data" in until else None,
            )
    return out


def read_only_fields(data_schema: Any) -> frozenset[str]:
    return frozenset(
        str(name)
        for name, prop in _properties(data_schema).items()
        if isinstance(prop, Mapping) and prop.get("readOnly") is True
    )


def readers_of(access: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The ``access.read`` roles of a definition (None: the default, ``engine.access``)."""
    read = (access or {}).get("read")
    return None if read is None else tuple(read)


def reads(schema: Any) -> set[str]:
    """Top-level fields a ``when`` schema constrains (``properties``, ``required``,
    ``dependentRequired``/``dependentSchemas`` keys, through allOf/anyOf/oneOf/not/if/then/else)."""
    if not isinstance(schema, Mapping):
        return set()
    found = {str(k) for k in _properties(schema)}
    found.update(str(k) for k in schema.get("required") or ())
    for key in ("dependentRequired", "dependentSchemas"):
        found.update(str(k) for k in schema.get(key) or {})
    for key in _COMBINATORS:
        for part in schema.get(key) or ():
            found |= reads(part)
    for key in ("not", "if", "then", "else"):
        found |= reads(schema.get(key))
    return found
