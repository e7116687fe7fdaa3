"""Small real images for tests of attachments: a JPEG with a GPS location in its EXIF, PNGs,
and a helper that uploads one through the facade."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from engine.blobs.stand_in import stand_in
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["GPS_IFD", "jpeg", "jpeg_with_gps", "png", "png_file", "stand_ins", "upload"]

GPS_IFD = 0x8825


def png(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (0, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (1200, 900)) -> bytes:
    """A JPEG taken at 36°27'N 115°59'E (Liaocheng), as a phone writes it in the EXIF."""
    image = Image.new("RGB", size, (90, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "QingliuPhone"  # Make
    exif[GPS_IFD] = {
        1: "N",
        2: (36.0, 27.0, 0.0),
        3: "E",
        4: (115.0, 59.0, 0.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(
    engine: Engine,
    actor: Actor,
    workflow: str,
    field: str,
    data: bytes | None = None,
    *,
    name: str = "photo.png",
    case_id: int | None = None,
) -> dict[str, Any]:
    """Upload ``data`` (a small PNG by default) and return its attachment value."""
    return engine.attachments.upload(
        png() if data is None else data,
        name,
        actor,
        workflow=workflow,
        field=field,
        case_id=case_id,
    )


def stand_ins(
    engine: Engine,
    actor: Actor,
    workflow: str,
    values: dict[str, Any],
    *,
    trigger: str | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    """``values`` with each string where an attachment belongs (``photos: ["a.jpg"]``) made a
    real upload by ``actor`` (``engine.blobs.stand_in``)."""
    d = engine.definition(workflow)[1]
    return stand_in(engine.attachments, d, values, actor, trigger=trigger, case_id=case_id)


def png_file(folder: Path, name: str = "photo.png") -> str:
    """A small PNG written to ``folder``: its path, for ``qingliu case attach``."""
    path = folder / name
    path.write_bytes(png())
    return str(path)
