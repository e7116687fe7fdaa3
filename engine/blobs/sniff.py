"""The media type of a file, from its first bytes (magic numbers), never from its name or the
Content-Type the client sent."""

from __future__ import annotations

from engine.definition.attachments import JPEG, PDF, PNG, WEBP

__all__ = ["sniff"]


def sniff(data: bytes) -> str | None:
    """``image/jpeg``, ``image/png``, ``image/webp``, ``application/pdf`` or None (unknown)."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None
