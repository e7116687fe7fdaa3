"""A checkpoint of the history (``qingliu audit checkpoint``): the head of the global chain at
one moment, signed with the history key (``engine.audit`` makes and verifies them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.store._chain import keyed

__all__ = ["Checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """The head of the global chain at one moment, signed with the key: kept elsewhere, it
    proves later that nothing at or before it changed."""

    gseq: int
    hash: str
    at: datetime
    signature: str

    FORMAT = "qingliu-history-checkpoint/1"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.FORMAT,
            "gseq": self.gseq,
            "hash": self.hash,
            "at": self.at.isoformat(),
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: Any) -> Checkpoint:
        """Raises ``ValueError`` with a sentence when ``value`` is not a checkpoint."""
        if not isinstance(value, Mapping) or value.get("format") != cls.FORMAT:
            raise ValueError(f"not a checkpoint (its format must be {cls.FORMAT!r})")
        gseq, hash_, at, signature = (value.get(k) for k in ("gseq", "hash", "at", "signature"))
        if not (isinstance(gseq, int) and gseq >= 0 and isinstance(hash_, str)):
            raise ValueError("a checkpoint has a global number (gseq) and a hash")
        if not (isinstance(at, str) and isinstance(signature, str)):
            raise ValueError("a checkpoint has a time (at) and a signature")
        try:
            when = datetime.fromisoformat(at)
        except ValueError as exc:
            raise ValueError(f"the checkpoint's time is not ISO 8601: {at!r}") from exc
        return cls(gseq, hash_, when, signature)

    @staticmethod
    def sign(key: bytes, gseq: int, hash_: str, at: datetime) -> str:
        return keyed(key, "checkpoint", str(gseq), hash_, at.isoformat())
