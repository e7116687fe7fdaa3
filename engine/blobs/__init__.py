"""Evidence files (docs/attachments.md): the content-addressed blob store (``store``), type
sniffing (``sniff``), the public copy and thumbnail of images (``images``), and the engine's
``attachments`` service (``attachments``: upload, read, the check of attachment values); the
field type itself is ``engine.definition.attachments``."""

from __future__ import annotations

from engine.blobs.attachments import Attachments
from engine.blobs.errors import TooLarge, UnsupportedMedia
from engine.blobs.store import BlobStore, FileBlobStore, MemoryBlobStore, digest_of

__all__ = [
    "Attachments",
    "BlobStore",
    "FileBlobStore",
    "MemoryBlobStore",
    "TooLarge",
    "UnsupportedMedia",
    "digest_of",
]
