"""The photo step of the 随手拍 form: the photos a person attached, checked and stored as
attachments (``engine.attachments``), as the values of the report's ``photos`` field.

Every photo is checked against the field's rule (workflows/public_report.yaml: ``accept``,
``max_bytes``) before any is stored: its size, its type sniffed from its bytes (the name and
the browser's type are not trusted) and that the image decodes, as the engine's upload checks
them. So a refused photo leaves nothing behind, not even the photos before it; then each is
uploaded for a case about to be opened. A refusal is a ``PhotoRefused`` with its HTTP status
(413: too large, 415: not a JPG/PNG/WebP photo) and a sentence for the photo field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.blobs import TooLarge, UnsupportedMedia, images
from engine.blobs.attachments import field_rule
from engine.blobs.sniff import sniff
from engine.definition.attachments import IMAGE_TYPES, Rule
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["MAX_BYTES", "MAX_PHOTOS", "Photo", "PhotoRefused", "store_photos"]

WORKFLOW, FIELD = "public_report", "photos"
MAX_PHOTOS = 6
MAX_BYTES = 10 * 1024 * 1024  # the photos field's limit (the rule's, when it gives one)
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


def _rule(engine: Engine) -> Rule:
    _, definition = engine.definition(WORKFLOW)
    return field_rule(definition, FIELD) or Rule(max_bytes=MAX_BYTES)


def _too_large(rule: Rule, name: str) -> PhotoRefused:
    return PhotoRefused(413, f"照片过大：每张不超过 {rule.limit_text()}（{name}）")


def _refusal(photo: Photo, rule: Rule) -> PhotoRefused | None:
    name = photo.filename or "照片"
    if len(photo.data) > rule.max_bytes:
        return _too_large(rule, name)
    media_type = sniff(photo.data)
    if media_type is None or media_type not in rule.accept:
        return PhotoRefused(415, f"{UNSUPPORTED}（{name} 不是照片）")
    if media_type in IMAGE_TYPES and images.readable(photo.data, media_type):
        return PhotoRefused(415, f"{UNSUPPORTED}（{name} 无法读取）")
    return None


def store_photos(engine: Engine, photos: list[Photo], actor: Actor, into: list[int]) -> list[Any]:
    """The ``photos`` values of a new report: every photo checked, then each uploaded (the
    upload rows' ids go to ``into``, for ``engine.attachments.discard`` if the report is
    refused after)."""
    rule = _rule(engine)
    for photo in photos:
        refused = _refusal(photo, rule)
        if refused is not None:
            raise refused
    values = []
    for n, photo in enumerate(photos, 1):
        name = photo.filename or f"photo-{n}"
        try:
            values.append(
                engine.attachments.upload(
                    photo.data, name, actor, workflow=WORKFLOW, field=FIELD, into=into
                )
            )
        except TooLarge as error:
            raise _too_large(rule, name) from error
        except UnsupportedMedia as error:
            raise PhotoRefused(415, f"{UNSUPPORTED}（{name}）") from error
    return values
