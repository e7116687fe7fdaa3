"""The append-only history: data patches, the hash chain, and replay.

Each event row carries ``hash = sha256(prev_hash + canonical JSON of its content)``; the first
event of a case chains from ``GENESIS``. When its transaction commits, every history row also
takes its number in one global sequence across all cases and a link keyed with the ``history``
key kept outside the database (``HMAC-SHA256`` over the number, the link before it and the
row's hash: ``engine/store/_chain.py``); ``engine.audit`` verifies both chains and the head.
The case row's state and data are a cache of the history:
``replay`` folds the events over the definition and must arrive at the same place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit import HISTORY_KEY, Checkpoint, verify
from engine.definition.model import Definition
from engine.handlers import Actor
from engine.keys import KeyRing
from engine.store._chain import GENESIS, chain_hash
from engine.store.repository import CaseRow, EventRow, Tx

__all__ = [
    "GENESIS",
    "HISTORY_KEY",
    "MIGRATED",
    "NOTE_KINDS",
    "Replay",
    "apply_patch",
    "chain_hash",
    "copy_data",
    "diff",
    "event_row",
    "replay",
    "verify_chains",
]


# History rows that record something about a case without moving it (no state, no data change).
# ``signed``: a party's signature in a joint sign-off (engine.sign_off).
NOTE_KINDS = frozenset(
    {
        "timer_skipped",
        "timer_recomputed",
        "timer_moved",
        "deadline_paused",
        "deadline_resumed",
        "signed",
    }
)


# A case moved to another version of its workflow (engine/migration.py): the payload names
# ``from_version`` and ``to_version``; events after it are replayed on the new version.
MIGRATED = "migrated"
# The one administrative row that moves the state (the others, ``corrected``, ``cancelled``
# and ``reassigned``, change data or the case row only).
REOPENED = "reopened"


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """A top-level patch: ``{"set": {...}, "unset": [...]}``, empty parts left out."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    patch: dict[str, Any] = {}
    if changed:
        patch["set"] = changed
    if removed:
        patch["unset"] = removed
    return patch


def apply_patch(data: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out.update(patch.get("set", {}))
    for key in patch.get("unset", []):
        out.pop(key, None)
    return out


@dataclass(frozen=True)
class Replay:
    case_id: int
    state: str | None
    data: dict[str, Any]
    version: int
    problems: list[str]

    def matches(self, case: CaseRow) -> bool:
        return (
            not self.problems
            and self.state == case.state
            and self.data == case.data
            and self.version == case.version
        )


def _reopened(definition: Definition, row: EventRow) -> str | None:
    """A problem sentence when ``row`` reopens the case in no state it may reopen in."""
    state = row.to_state
    if state is None or state not in definition.states or definition.is_final(state):
        return f"event {row.seq}: reopened in {state!r}, not a state to reopen in"
    return None


def _step(definition: Definition, state: str | None, row: EventRow) -> str | None:
    """Check one event against the definition; a problem sentence, or None."""
    if row.kind == "created":
        if state is not None or row.to_state != definition.initial:
            return f"event {row.seq}: a case is created once, in {definition.initial!r}"
        return None
    if row.kind in NOTE_KINDS:
        if row.to_state is not None or row.patch:
            return f"event {row.seq}: {row.kind} changed the state or the data"
        return None
    if row.kind == REOPENED:  # an admin reopened the case (engine/admin_ops.py)
        return _reopened(definition, row)
    if row.kind != "transition":
        return None if row.to_state is None else f"event {row.seq}: {row.kind} moved the state"
    index = row.transition if row.transition is not None else -1
    if not 0 <= index < len(definition.transitions):
        return f"event {row.seq}: transition {index} is not in the definition"
    spec = definition.transitions[index]
    dest = spec.dest if spec.dest is not None else state
    if spec.trigger != row.trigger or state not in spec.sources or dest != row.to_state:
        return (
            f"event {row.seq}: {row.trigger!r} from {state!r} to {row.to_state!r} "
            "is not a transition of the definition"
        )
    return None


def _migrated(
    definition: Definition, state: str | None, row: EventRow, versions: Mapping[int, Definition]
) -> tuple[Definition, str | None]:
    """The definition after a ``migrated`` row, and a problem sentence or None."""
    after = versions.get(int(row.payload.get("to_version", 0)))
    if after is None:
        return definition, f"event {row.seq}: migrated to a version that is not published"
    if row.from_state != state or row.to_state not in after.states:
        moved = f"{row.from_state!r} to {row.to_state!r}"
        return after, f"event {row.seq}: migrated from {moved}, but the case was in {state!r}"
    return after, None


def replay(
    definition: Definition,
    events: Sequence[EventRow],
    versions: Mapping[int, Definition] | None = None,
) -> Replay:
    """Fold ``events`` over ``definition``; ``versions`` (every version a ``migrated`` row
    names): each event is checked against the version the case was on before it, starting
    from the first migration's ``from_version``."""
    versions = versions or {}
    first = next((e for e in events if e.kind == MIGRATED), None)
    if first is not None:
        definition = versions.get(int(first.payload.get("from_version", 0)), definition)
    state: str | None = None
    data: dict[str, Any] = {}
    problems: list[str] = []
    for row in events:
        if row.kind == MIGRATED:
            definition, problem = _migrated(definition, state, row, versions)
        else:
            problem = _step(definition, state, row)
        if problem:
            problems.append(problem)
        if row.to_state is not None:
            state = row.to_state
        data = apply_patch(data, row.patch)
    case_id = events[0].case_id if events else 0
    return Replay(case_id, state, data, len(events), problems)


def copy_data(value: Any) -> Any:
    """A deep copy of case data: JSON's dicts, lists and scalars directly (several times faster
    than ``copy.deepcopy``), anything else by ``copy.deepcopy``."""
    if type(value) is dict:
        return {k: copy_data(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_data(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    return copy.deepcopy(value)


def event_row(
    case: CaseRow,
    kind: str,
    actor: Actor,
    now: datetime,
    payload: Mapping[str, Any],
    patch: Mapping[str, Any],
) -> dict[str, Any]:
    """The next history row of ``case`` (its ``hash`` is added when it is committed)."""
    return {
        "case_id": case.id,
        "seq": case.version + 1,
        "kind": kind,
        "trigger": None,
        "transition": None,
        "from_state": None,
        "to_state": None,
        "actor": actor.name,
        "role": actor.role,
        "jurisdiction": actor.jurisdiction,
        "payload": dict(payload),
        "patch": dict(patch),
        "at": now,
        "due_at": None,
        "prev_hash": case.last_hash,
    }


def verify_chains(
    tx: Tx, keys: KeyRing | None = None, since: Checkpoint | None = None
) -> list[str]:
    """Every chain (each case's, the global one, the head; ``since``: and that the history
    still holds that checkpoint): one sentence per damage found; empty when sound. See
    ``engine.audit``."""
    return verify(tx, keys or KeyRing(), since).problems
