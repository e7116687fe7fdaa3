"""The file name kept with an attachment: shown to people, never used as a path."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_name"]

_MAX = 255
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_name(filename: str) -> str:
    """The last path segment of ``filename``, without control characters or slashes, at most
    255 characters; ``file`` when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip()
    return name[:_MAX] or "file"
