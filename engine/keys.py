"""Secret keys kept outside the database: the history chain's HMAC key, the sealing key of
confidential fields.

Keys live as files in one folder (``QINGLIU_KEYS``; by default ``var/keys`` next to the working
directory), one file per key, 32 random bytes in hex. The folder is created 0700 and each file
0600 on first use, so the first start of a new deployment makes its keys; back the folder up
apart from the database (a database copy without its keys proves nothing and opens nothing).
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from engine.errors import ConfigError

__all__ = ["DEFAULT_KEYS_DIR", "KeyRing"]

DEFAULT_KEYS_DIR = "var/keys"
_SIZE = 32


class KeyRing:
    """The keys of one deployment, read (or made) once per name."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder or os.environ.get("QINGLIU_KEYS") or DEFAULT_KEYS_DIR)
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, name: str, size: int = _SIZE) -> bytes:
        """The key called ``name`` (``size`` bytes), created on first use."""
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                key = self._keys[name] = self._read_or_make(name, size)
            return key

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.key"

    def _read_or_make(self, name: str, size: int) -> bytes:
        path = self.path(name)
        try:
            if not path.exists():
                self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    pass  # another process made it a moment ago: read theirs
                else:
                    with os.fdopen(fd, "w", encoding="ascii") as out:
                        out.write(secrets.token_hex(size) + "\n")
            text = path.read_text(encoding="ascii").strip()
        except OSError as exc:
            raise ConfigError(f"key {name!r}: cannot read or create {path}: {exc}") from exc
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != size:
            raise ConfigError(f"key {name!r}: {path} must hold {size} bytes in hex")
        return key
