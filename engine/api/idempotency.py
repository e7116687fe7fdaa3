"""Firing a transition once per ``Idempotency-Key``.

The first successful response to a key is recorded in ``idempotency_keys`` in the same
transaction as the transition it answers, so either both exist or neither does. A repeated key
(by the same owner: an API token, or a console user whose keys ``user_idempotency_keys``
keeps) gets that response back and changes nothing; the same key with a different
request is refused (422). A request that failed changed nothing and recorded nothing, so
retrying it with the same key runs it again.

Duplicates racing on one key (a client retrying before its first attempt has answered) all get
the first answer. The key is looked up first, without a lock, so that a replay costs one read;
a duplicate that found nothing either records the key after its twin did (``_KeyTaken``: it
rolls back and reads theirs) or waits for the case row its twin holds and is refused because
the case moved on (a stale ``If-Match``, a trigger no longer offered): then, and only then, it
reads the key again, finds the twin's committed answer and returns it instead of the refusal.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import CaseError, FieldError, IdempotencyKeyReused, RequestError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import IdempotencyRow, TokenRow, Tx
from engine.store.tables import dumps

__all__ = ["KeyOwner", "fire", "parse_if_match", "parse_key"]

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_VERSION = re.compile(r'^\s*(?:W/)?"?([0-9]{1,18})"?\s*$')


def _malformed(header: str, detail: str) -> RequestError:
    return RequestError(detail, [FieldError(f"$.{header}", detail, "header")])


def parse_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise _malformed("Idempotency-Key", "Idempotency-Key must be 1-200 printable ASCII")
    return value


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: 3`` or ``"3"`` (the ETag of GET /cases/{id}); ``*`` matches any version."""
    if value is None or value.strip() == "*":
        return None
    match = _VERSION.match(value)
    if not match:
        raise _malformed("If-Match", 'If-Match must be a case version, e.g. "3"')
    return int(match[1])


@dataclass(frozen=True)
class KeyOwner:
    """Whose keys they are: an API token's (``idempotency_keys``) or, with ``user``, a console
    user's (``user_idempotency_keys``). Two owners never see each other's keys."""

    id: int
    user: bool = False

    def seen(self, tx: Tx, key: str) -> IdempotencyRow | None:
        return tx.user_idempotency(self.id, key) if self.user else tx.idempotency(self.id, key)

    def record(self, tx: Tx, key: str, digest: str, body: Any, engine: Engine) -> bool:
        now = engine.clock.now()
        if self.user:
            return tx.insert_user_idempotency(self.id, key, digest, 200, body, now)
        return tx.insert_idempotency(self.id, key, digest, 200, body, now)


class _KeyTaken(Exception):
    """Another request recorded the key while this one ran; roll back and read theirs."""


def _request_hash(case_id: int, trigger: str, payload: Mapping[str, Any]) -> str:
    body = dumps({"case_id": case_id, "trigger": trigger, "payload": dict(payload)})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _fire_in(
    engine: Engine,
    tx: Tx,
    actor: Actor,
    case_id: int,
    trigger: str,
    payload: Mapping[str, Any],
    expected_version: int | None,
) -> dict[str, Any]:
    """The case after the transition as ``actor`` sees it: the view ``fire_in`` returns (its
    row and live timers, read in ``tx``) with the triggers ``actor`` may fire next, rather than
    a second read of the case (``fire_in`` loaded it with ``actor``, so the scope is checked)."""
    view = engine.fire_in(tx, case_id, trigger, actor, payload, expected_version)
    row = view.case
    wf = engine.catalog.compiled(tx, row.definition_id)
    return engine.seen_by(tx, wf, row, actor, timers=view.timers).to_json()


def fire(
    engine: Engine,
    token: TokenRow | KeyOwner,
    actor: Actor,
    case_id: int,
    trigger: str,
    payload: Mapping[str, Any],
    expected_version: int | None,
    key: str | None,
) -> tuple[dict[str, Any], bool]:
    """The case after the transition, and whether this is a replayed first response. ``token``
    owns the key (a ``KeyOwner`` for a console user)."""
    owner = token if isinstance(token, KeyOwner) else KeyOwner(token.id)
    if key is None:
        with engine.store.write() as tx:
            return _fire_in(engine, tx, actor, case_id, trigger, payload, expected_version), False
    digest = _request_hash(case_id, trigger, payload)
    while True:
        try:
            with engine.store.write() as tx:
                seen = _replay(tx, owner, key, digest)
                if seen is not None:
                    return seen, True
                body = _fire_in(engine, tx, actor, case_id, trigger, payload, expected_version)
                if not owner.record(tx, key, digest, body, engine):
                    raise _KeyTaken
                return body, False
        except _KeyTaken:
            continue
        except IdempotencyKeyReused:
            raise
        except CaseError:
            # A duplicate that looked the key up before its twin committed, then waited for the
            # case row behind it, finds the case moved on (409, 412): the twin's answer is
            # recorded by now, so it is this request's answer too. Only a refused keyed request
            # pays this read.
            with engine.store.read() as tx:
                seen = _replay(tx, owner, key, digest)
            if seen is None:
                raise
            return seen, True


def _replay(tx: Tx, owner: KeyOwner, key: str, digest: str) -> dict[str, Any] | None:
    """The first answer recorded for ``key``, or None; 422 if it answered another request."""
    seen = owner.seen(tx, key)
    if seen is None:
        return None
    if seen.request_hash != digest:
        raise IdempotencyKeyReused(key)
    return dict(seen.body)
