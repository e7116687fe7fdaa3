"""Stand-in files for attachments named by a string, where no person uploads anything: the
simulator's scenarios (``photos: [after.jpg]``) and tests. Each name becomes a small PNG of its
own colour, uploaded through ``engine.attachments`` as ``actor`` (so the values pass the same
check as real uploads), and the string becomes that upload's attachment value."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image

from engine.blobs.attachments import Attachments
from engine.definition.attachments import replace_values
from engine.definition.model import Definition
from engine.handlers import Actor

__all__ = ["placeholder_png", "stand_in"]


def placeholder_png(name: str, size: int = 8) -> bytes:
    """A ``size``-pixel square PNG whose colour comes from ``name`` (other names, other bytes)."""
    r, g, b = hashlib.sha256(name.encode("utf-8")).digest()[:3]
    out = io.BytesIO()
    Image.new("RGB", (size, size), (r, g, b)).save(out, "PNG")
    return out.getvalue()


def stand_in(
    attachments: Attachments,
    d: Definition,
    values: Mapping[str, Any],
    actor: Actor,
    *,
    trigger: str | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    """``values`` (a new case's data, or ``trigger``'s payload) with each string where an
    attachment belongs replaced by the attachment value of an uploaded stand-in."""

    def upload(value: Any, field: str) -> Any:
        if not isinstance(value, str):
            return value
        return attachments.upload(
            placeholder_png(value), value, actor, workflow=d.name, field=field, case_id=case_id
        )

    if trigger is None:
        schemas = [d.data_schema]
    else:
        schemas = [t.payload_schema for t in d.transitions if t.trigger == trigger]
    out: Any = dict(values)
    for schema in schemas:
        out = replace_values(schema, out, upload)
    return dict(out)
