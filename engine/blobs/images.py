"""Copies of an uploaded image: the ``public`` copy (pixels only: EXIF with its GPS location,
XMP, comments and every other chunk of metadata dropped by re-encoding) and the ``thumb``
(at most ``THUMB_PX`` on its longer side) for the console. Pillow decodes and re-encodes."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from engine.definition.attachments import JPEG, PNG, WEBP

__all__ = ["THUMB_PX", "VARIANTS", "derive", "readable"]

THUMB_PX = 320
VARIANTS = ("original", "public", "thumb")
_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
# A decompression bomb (a tiny file that decodes to gigapixels) is refused, not decoded.
_MAX_PIXELS = 50_000_000


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > _MAX_PIXELS:
            raise ValueError(f"{image.width}x{image.height} pixels is too many")
        image.load()
    return image


def readable(data: bytes, media_type: str) -> str | None:
    """Why the image cannot be decoded as ``media_type``, or None when it can."""
    try:
        image = _open(data)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"not a readable image ({type(exc).__name__})"
    except Image.DecompressionBombWarning:
        return "the image has too many pixels"
    if _FORMATS.get(media_type) != image.format:
        return f"the bytes are {image.format}, not {media_type}"
    return None


def _clean(data: bytes) -> Image.Image:
    """The pixels of ``data``, upright (EXIF orientation applied), without any metadata."""
    image = ImageOps.exif_transpose(_open(data))
    mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
    image = image.convert(mode)
    bare = Image.new(mode, image.size)
    bare.paste(image)
    return bare


def _encode(image: Image.Image, media_type: str) -> bytes:
    out = io.BytesIO()
    fmt = _FORMATS[media_type]
    if fmt == "JPEG":
        image = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        image.save(out, "JPEG", quality=88, optimize=True)
    else:
        image.save(out, fmt)
    return out.getvalue()


def derive(data: bytes, media_type: str, variant: str) -> tuple[bytes, str]:
    """The ``public`` or ``thumb`` copy of image ``data``, and its media type (a thumbnail is
    a JPEG, or a PNG when the image has transparency)."""
    image = _clean(data)
    if variant == "public":
        return _encode(image, media_type), media_type
    image.thumbnail((THUMB_PX, THUMB_PX))
    kind = PNG if image.mode in ("RGBA", "LA") else JPEG
    return _encode(image, kind), kind
