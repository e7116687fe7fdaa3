"""The demo's evidence photos: small real JPEGs drawn with Pillow (a river bank, a label) and
uploaded through ``engine.attachments`` as the actor who took them, so the demo's cases hold
attachment values that the console shows and ``qingliu audit verify`` checks."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image, ImageDraw

from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["after_photos", "demo_photo", "demo_photos"]


def _jpeg(label: str) -> bytes:
    """A 240×160 picture: sky, a river of a colour taken from ``label``, a bank, a pipe."""
    r, g, b = hashlib.sha256(label.encode("utf-8")).digest()[:3]
    image = Image.new("RGB", (240, 160), (170, 200, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 70, 240, 100), fill=(110, 150, 80))
    draw.rectangle((0, 100, 240, 160), fill=(r // 2, 90 + g // 4, 120 + b // 4))
    draw.rectangle((150, 80, 200, 92), fill=(90, 90, 90))
    draw.text((8, 8), label.encode("ascii", "replace").decode()[:36], fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def demo_photo(
    engine: Engine,
    actor: Actor,
    workflow: str,
    field: str,
    label: str,
    case_id: int | None = None,
) -> dict[str, Any]:
    """Upload the demo picture ``label`` for ``field``; its attachment value."""
    name = label.rsplit("/", 1)[-1]
    return engine.attachments.upload(
        _jpeg(label), name, actor, workflow=workflow, field=field, case_id=case_id
    )


def demo_photos(
    engine: Engine,
    actor: Actor,
    workflow: str,
    field: str,
    labels: list[str],
    case_id: int | None = None,
) -> list[dict[str, Any]]:
    return [demo_photo(engine, actor, workflow, field, label, case_id) for label in labels]


def after_photos(engine: Engine, actor: Actor, code: str, case_id: int | None) -> dict[str, Any]:
    """The ``evidence`` of a finished rectification of outfall ``code``: two photos after."""
    shots = [f"evidence/{code}/after-1.jpg", f"evidence/{code}/after-2.jpg"]
    return {
        "photos": demo_photos(engine, actor, "rectification", "evidence.photos", shots, case_id)
    }
