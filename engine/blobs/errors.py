"""The refusals of an upload (branches of the error tree in ``engine/errors.py``): the message
says why in Chinese and English, as the person uploading reads it."""

from __future__ import annotations

from engine.errors import PayloadTooLarge, RequestError

__all__ = ["TooLarge", "UnsupportedMedia"]


class TooLarge(PayloadTooLarge):
    """A file over its field's size limit (``max_bytes``): nothing was stored."""

    status, kind, exit_code = 413, "file-too-large", 2
    title = "The file is larger than its field allows"


class UnsupportedMedia(RequestError):
    """A file whose bytes are not of a type its field accepts (``accept``): nothing stored."""

    status, kind, exit_code = 415, "unsupported-media-type", 2
    title = "The file's type is not one its field accepts"
