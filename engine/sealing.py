"""Confidential fields at rest: sealed with AES-SIV under a key kept outside the database.

A field marked ``confidential`` in a definition's data schema (``engine.definition.fields``) is
stored, in the case row and in every history payload and patch, as the string
``sealed:v1:<base64url>``: the JSON of the value encrypted with AES-256-SIV (RFC 5297), bound
to the case and the field name as associated data, so a sealed value moved to another case or
field does not open. AES-SIV is deterministic: the same value of the same field of the same
case seals to the same string, so history patches, replay and ``audit verify`` work on the
sealed form unchanged. The key is ``sealing`` in ``engine.keys`` (``QINGLIU_KEYS``); a copy of
the database without it holds no reporter's identity. The engine opens sealed values only for
the actors ``engine.access`` lets read them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from engine.definition.model import Definition
from engine.errors import ConfigError
from engine.keys import KeyRing

__all__ = ["PREFIX", "Sealer"]

PREFIX = "sealed:v1:"
KEY_NAME = "sealing"
KEY_SIZE = 64  # AES-256-SIV


class Sealer:
    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys
        self._aead: AESSIV | None = None

    def _cipher(self) -> AESSIV:
        if self._aead is None:
            self._aead = AESSIV(self._keys.get(KEY_NAME, KEY_SIZE))
        return self._aead

    @staticmethod
    def _bound(case_id: int, name: str) -> list[bytes]:
        return [f"{case_id}:{name}".encode()]

    def seal(self, d: Definition, case_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (data, a payload, a patch's ``set``) with its confidential fields sealed."""
        out = dict(values)
        for name in d.confidential:
            value = out.get(name)
            if name in out and not _is_sealed(value):
                text = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
                sealed = self._cipher().encrypt(text, self._bound(case_id, name))
                out[name] = PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")
        return out

    def open(self, d: Definition, case_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with its sealed confidential fields opened."""
        out = dict(values)
        for name in d.confidential:
            value = out.get(name)
            if _is_sealed(value):
                raw = base64.urlsafe_b64decode(str(value)[len(PREFIX) :])
                try:
                    text = self._cipher().decrypt(raw, self._bound(case_id, name))
                except InvalidTag as exc:
                    raise ConfigError(
                        f"case {case_id}: field {name!r} does not open with this deployment's "
                        f"sealing key ({self._keys.path(KEY_NAME)}): wrong key or altered data"
                    ) from exc
                out[name] = json.loads(text)
        return out

    def open_patch(self, d: Definition, case_id: int, patch: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(patch)
        if "set" in out:
            out["set"] = self.open(d, case_id, out["set"])
        return out

    def seal_patch(self, d: Definition, case_id: int, patch: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(patch)
        if "set" in out:
            out["set"] = self.seal(d, case_id, out["set"])
        return out


def _is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
