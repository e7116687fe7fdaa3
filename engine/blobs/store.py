"""Where the bytes of attachments live: a content-addressed store, named by SHA-256.

``BlobStore`` is the contract; ``FileBlobStore`` keeps each blob as a read-only file
``<root>/<first 2 hex>/<64 hex>``, written atomically (a temporary file in the same folder,
then a rename), and the copies derived from it (``public``, ``thumb``) under
``<root>/derived/<first 2 hex>/<64 hex>.<variant>``. ``MemoryBlobStore`` is the same in a
dictionary (an ``Engine`` built without a store, tests). An S3-compatible object store would
implement the same six methods with the digest as the object key (docs/attachments.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from engine.definition.attachments import is_digest

__all__ = ["BlobStore", "FileBlobStore", "MemoryBlobStore", "digest_of", "is_digest"]

_VARIANT = re.compile(r"[a-z]{1,16}")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` (once: the same bytes are one blob); return its SHA-256 hex."""

    def get(self, digest: str) -> bytes | None:
        """The bytes stored under ``digest``, or None."""

    def exists(self, digest: str) -> bool: ...

    def put_derived(self, digest: str, variant: str, data: bytes) -> None:
        """Keep a copy derived from blob ``digest`` (``public``, ``thumb``)."""

    def get_derived(self, digest: str, variant: str) -> bytes | None: ...

    def delete(self, digest: str) -> None:
        """Remove blob ``digest`` and its derived copies (no upload row names it any more)."""


def _check(digest: str, variant: str | None = None) -> None:
    if not is_digest(digest):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    if variant is not None and not _VARIANT.fullmatch(variant):
        raise ValueError(f"not a variant name: {variant!r}")


class FileBlobStore:
    """Blobs as read-only files under ``root`` (created on first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        _check(digest)
        return self.root / digest[:2] / digest

    def derived_path(self, digest: str, variant: str) -> Path:
        _check(digest, variant)
        return self.root / "derived" / digest[:2] / f"{digest}.{variant}"

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        path = self.path(digest)
        if not path.exists():
            _write_atomically(path, data)
        return digest

    def get(self, digest: str) -> bytes | None:
        return _read(self.path(digest))

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_derived(self, digest: str, variant: str, data: bytes) -> None:
        path = self.derived_path(digest, variant)
        if not path.exists():
            _write_atomically(path, data)

    def get_derived(self, digest: str, variant: str) -> bytes | None:
        return _read(self.derived_path(digest, variant))

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)
        for copy in self.derived_path(digest, "public").parent.glob(f"{digest}.*"):
            copy.unlink(missing_ok=True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside ``path``, flushed, made read-only, then renamed: a reader sees
    the whole file or none (a rename within one folder is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o444)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class MemoryBlobStore:
    """The same contract in memory (nothing survives the process)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.derived: dict[tuple[str, str], bytes] = {}

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        self.blobs.setdefault(digest, bytes(data))
        return digest

    def get(self, digest: str) -> bytes | None:
        _check(digest)
        return self.blobs.get(digest)

    def exists(self, digest: str) -> bool:
        return digest in self.blobs

    def put_derived(self, digest: str, variant: str, data: bytes) -> None:
        _check(digest, variant)
        self.derived.setdefault((digest, variant), bytes(data))

    def get_derived(self, digest: str, variant: str) -> bytes | None:
        return self.derived.get((digest, variant))

    def delete(self, digest: str) -> None:
        _check(digest)
        self.blobs.pop(digest, None)
        for key in [k for k in self.derived if k[0] == digest]:
            del self.derived[key]
