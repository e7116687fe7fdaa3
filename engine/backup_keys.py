"""The keys a backup names (engine/backup.py): the fingerprint of the history key, which
signs the manifest, and of every other key file of the installation (the sealing key ...),
which a restore needs back. A fingerprint is an HMAC of a fixed label under the key: it tells
keys apart and reveals nothing of them."""

from __future__ import annotations

from typing import Any

from engine.audit import HISTORY_KEY
from engine.errors import ConfigError
from engine.keys import KeyRing
from engine.store._chain import keyed

__all__ = ["fingerprint", "history_key", "key_fingerprints", "key_problems"]


def history_key(keys: KeyRing) -> bytes:
    path = keys.path(HISTORY_KEY)
    if not path.exists():
        raise ConfigError(
            f"the history key {path} is missing: restore the keys folder from its own offline "
            "backup first (QINGLIU_KEYS or the settings' keys folder)"
        )
    return keys.get(HISTORY_KEY)


def fingerprint(keys: KeyRing) -> str:
    """The history key's fingerprint: names the key, reveals nothing of it."""
    return keyed(history_key(keys), "qingliu-key-fingerprint")[:32]


def key_fingerprints(keys: KeyRing) -> dict[str, str]:
    """The fingerprint of every key file of the installation (``history``, ``sealing`` ...):
    the backup needs each of them back (without the sealing key, no sealed field of a
    restored case opens). Read as the files are, never made."""
    found = {}
    for path in sorted(keys.folder.glob("*.key")) if keys.folder.is_dir() else []:
        try:
            secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"key {path} cannot be read: {exc}") from exc
        found[path.stem] = keyed(secret, "qingliu-key-fingerprint")[:32]
    return found


def key_problems(manifest: dict[str, Any], keys: KeyRing) -> list[str]:
    """The keys the backup was made with that this installation lacks or holds another of."""
    ours = key_fingerprints(keys)
    problems = []
    for name, theirs in sorted((manifest.get("keys") or {}).items()):
        if name == HISTORY_KEY:
            continue  # checked first, on its own (``engine.backup._check_manifest``)
        if name not in ours:
            problems.append(
                f"the {name} key it was made with (fingerprint {theirs}) is missing here "
                f"({keys.path(name)}): restore the keys folder that belongs with it"
            )
        elif ours[name] != theirs:
            problems.append(
                f"it was made with another {name} key (fingerprint {theirs}); this "
                f"installation's is {ours[name]}: restore the keys folder that belongs with it"
            )
    return problems
