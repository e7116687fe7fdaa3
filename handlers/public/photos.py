"""The photo step of the 随手拍 form: the photos a person attached, checked and stored, as the
values of the report's ``photos`` field.

Every photo is checked before any is stored (its size, and its type sniffed from its bytes:
the name and the browser's type are not trusted), so a refused photo leaves nothing behind;
then each is stored. A refusal is a ``PhotoRefused`` with its HTTP status (413: too large,
415: not a JPG/PNG/WebP photo) and a sentence for the photo field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["MAX_BYTES", "MAX_PHOTOS", "Photo", "PhotoRefused", "sniff", "store_photos"]

MAX_PHOTOS = 6
MAX_BYTES = 10 * 1024 * 1024  # the photos field's limit
TOO_LARGE = "照片过大：每张不超过 10 MB"
UNSUPPORTED = "只接受 JPG/PNG/WebP 照片"


@dataclass(frozen=True)
class Photo:
    filename: str
    data: bytes


class PhotoRefused(Exception):
    """A photo the report cannot take: ``status`` (413 or 415) and the sentence shown."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sniff(data: bytes) -> str | None:
    """The photo's type from its first bytes (JPEG, PNG, WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check(photo: Photo) -> None:
    if len(photo.data) > MAX_BYTES:
        raise PhotoRefused(413, f"{TOO_LARGE}（{photo.filename or '照片'}）")
    if sniff(photo.data) is None:
        raise PhotoRefused(415, f"{UNSUPPORTED}（{photo.filename or '照片'}不是照片）")


def store_photos(engine: Engine, photos: list[Photo], actor: Actor) -> list[Any]:
    """The ``photos`` values of a new report: every photo checked, then each stored."""
    for photo in photos:
        _check(photo)
    return [photo.filename or f"photo-{n}" for n, photo in enumerate(photos, 1)]
