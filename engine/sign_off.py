"""Joint sign-off (会签) at run time: signing, the round a case is in, and completing it.

A state with a ``sign_off`` block (``engine.definition.sign_off``) holds a *round*: the
parties it waits for and the signatures given since the case last entered the state. Nothing
is stored besides the history: each signature is a ``signed`` history row (no state or data
change, so ``replay`` and ``audit verify`` accept it as a note), and the round is read back
from the rows after the last entry into the state. Leaving the state by any way ends the round
(pending signatures are discarded); entering it again starts a fresh one.

- A party signs by firing the sign trigger; a second signature of the same party is refused
  (409 ``trigger-not-allowed``), a non-party is refused as a role mismatch (403).
- When the condition holds (all parties, or ``need`` of them), the engine fires the ``done``
  transition itself, as ``system``, in the same transaction, with the round as its payload
  (``{"sign_off": Round.to_json()}``: its actions read the signatures there, and the history
  row keeps them): its guards and actions run as for any transition, and if they refuse, the
  whole signing is refused and nothing is recorded.
  Nobody else may fire ``done``. A round of no parties (an empty data list) holds on entry.
- ``refuse`` is an ordinary transition, fired only by a party that has not signed (or admin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.clock import Clock
from engine.definition.compile import CompiledWorkflow
from engine.definition.model import ADMIN, SYSTEM, Definition, TransitionSpec
from engine.definition.quickcheck import SchemaCheck
from engine.definition.sign_off import SignOffSpec, sign_offs
from engine.errors import Forbidden, InvalidInput, Refused, TriggerNotAllowed
from engine.handlers import Actor
from engine.history import event_row
from engine.store.repository import CaseRow, EventRow, Tx
from engine.views import CaseView

__all__ = ["SIGNED", "Round", "Signature", "SignOff", "current_round"]

SIGNED = "signed"
# Sign-offs with no party that one firing may complete in a chain (a loop of them is refused).
MAX_CHAIN = 8


@dataclass(frozen=True)
class Signature:
    party: str
    actor: str
    role: str
    jurisdiction: str | None
    at: datetime
    seq: int
    payload: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        given = {k: v for k, v in self.payload.items() if k != "party"}
        out: dict[str, Any] = {
            "party": self.party,
            "by": self.actor,
            "role": self.role,
            "jurisdiction": self.jurisdiction,
            "at": self.at.isoformat(),
            "seq": self.seq,
            "payload": given,
        }
        if "opinion" in given:
            out["opinion"] = given["opinion"]
        return out


@dataclass(frozen=True)
class Round:
    spec: SignOffSpec
    parties: list[str]
    signatures: list[Signature] = field(default_factory=list)

    @property
    def signed(self) -> set[str]:
        return {s.party for s in self.signatures}

    @property
    def pending(self) -> list[str]:
        return [p for p in self.parties if p not in self.signed]

    @property
    def need(self) -> int:
        return self.spec.needed(len(self.parties))

    @property
    def holds(self) -> bool:
        return len(self.signed & set(self.parties)) >= self.need

    def is_party(self, actor: Actor) -> bool:
        return actor.role in self.parties

    def party_of(self, actor: Actor) -> str | None:
        """The party ``actor`` would sign for now (None: none left for it)."""
        return next((p for p in self.pending if p == actor.role), None)

    def signature_of(self, actor: Actor) -> Signature | None:
        return next((s for s in self.signatures if s.party == actor.role), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.spec.state,
            "title": self.spec.title,
            "trigger": self.spec.trigger,
            "done": self.spec.done,
            "refuse": self.spec.refuse,
            "parties": list(self.parties),
            "need": self.need,
            "signatures": [s.to_json() for s in self.signatures],
            "pending": self.pending,
            "complete": self.holds,
        }


def _entered(d: Definition, e: EventRow) -> bool:
    """``e`` moved the case into a state (anything but an internal transition or a note)."""
    if e.to_state is None:
        return False
    if e.kind == "transition" and e.transition is not None:
        return not d.transitions[e.transition].internal
    return True


def current_round(
    d: Definition, state: str, data: Mapping[str, Any], events: Sequence[EventRow]
) -> Round | None:
    """The round of ``state`` as the history gives it; None when ``state`` has no sign-off."""
    spec = sign_offs(d).get(state)
    if spec is None:
        return None
    signatures: list[Signature] = []
    for e in events:
        if _entered(d, e):
            signatures = []
        elif e.kind == SIGNED:
            party = str(e.payload.get("party"))
            signatures.append(
                Signature(party, e.actor, e.role, e.jurisdiction, e.at, e.seq, e.payload)
            )
    return Round(spec, spec.parties(data), signatures)


def _events(tx: Tx, case_id: int) -> list[EventRow]:
    """The case's history in this transaction: written rows and those queued to be."""
    return [*tx.events(case_id), *tx.queued_events(case_id)]


class Host(Protocol):
    """What of ``engine.runtime.Engine`` the sign-off uses."""

    clock: Clock

    def _available(self, tx: Tx, wf: CompiledWorkflow, row: CaseRow, actor: Actor) -> list[str]:
        """The triggers ``actor`` may fire now."""

    def _commit(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        row: CaseRow,
        event: dict[str, Any],
        data: dict[str, Any],
        state: str,
    ) -> CaseView:
        """Append ``event`` and update the case row."""

    def fire_in(
        self,
        tx: Tx,
        case_id: int,
        trigger: str,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        due_at: datetime | None = None,
        *,
        timer: Mapping[str, Any] | None = None,
        settling: int = 0,
    ) -> CaseView:
        """Fire ``trigger`` inside ``tx``."""


class SignOff:
    def __init__(self, host: Host) -> None:
        self.host = host
        self._checks: dict[tuple[str, str], SchemaCheck] = {}

    def intercept(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        row: CaseRow,
        trigger: str,
        actor: Actor,
        payload: dict[str, Any],
        data: Mapping[str, Any],
    ) -> CaseView | None:
        """Before a firing in a sign-off state: sign (the view after it), refuse (raise), or
        None to let the firing go on as usual."""
        d = wf.definition
        spec = sign_offs(d).get(row.state)
        if spec is None or trigger not in (spec.trigger, spec.done, spec.refuse):
            return None
        if trigger == spec.done:
            allowed = self.host._available(tx, wf, row, actor)
            why = f"{trigger!r} is taken by the engine when the sign-off in {row.state!r} holds"
            raise TriggerNotAllowed(row.id, trigger, row.state, allowed, why)
        found = current_round(d, row.state, data, _events(tx, row.id))
        assert found is not None
        if trigger == spec.refuse and actor.role in (ADMIN, SYSTEM):
            return None
        self._party(tx, wf, row, found, trigger, actor)
        if trigger == spec.refuse:
            return None
        errors = self._check(d, spec).errors(payload)
        if errors:
            raise InvalidInput("payload", errors)
        party = found.party_of(actor)
        assert party is not None
        event = event_row(
            row, SIGNED, actor, self.host.clock.now(), {**payload, "party": party}, {}
        )
        event["trigger"] = trigger
        view = self.host._commit(tx, wf, row, event, row.data, row.state)
        signed = Signature(
            party, actor.name, actor.role, actor.jurisdiction, event["at"], event["seq"], payload
        )
        complete = Round(spec, found.parties, [*found.signatures, signed])
        return self._done(tx, row.id, complete, 0) if complete.holds else view

    def _done(self, tx: Tx, case_id: int, complete: Round, depth: int) -> CaseView:
        """Take the done transition, as system, with the round as its payload (``depth``:
        how many sign-offs this one completes in a chain, each entered with none to wait for)."""
        if depth >= MAX_CHAIN:
            raise Refused(
                f"{MAX_CHAIN} sign-offs with no party to wait for complete one into the next: "
                f"stopped at {complete.spec.state!r}"
            )
        payload = {"sign_off": complete.to_json()}
        return self.host.fire_in(
            tx, case_id, complete.spec.done, Actor.system(), payload, settling=depth + 1
        )

    def _party(
        self, tx: Tx, wf: CompiledWorkflow, row: CaseRow, found: Round, trigger: str, actor: Actor
    ) -> None:
        """Refuse a non-party (403) and a party that has signed already (409)."""
        if not found.is_party(actor):
            parties = ", ".join(found.parties) or "none"
            raise Forbidden(
                f"role {actor.role!r} is not a party to the sign-off in {row.state!r} "
                f"(parties: {parties})",
                role=actor.role,
                trigger=trigger,
            )
        if found.party_of(actor) is None:
            sig = found.signature_of(actor)
            assert sig is not None
            allowed = self.host._available(tx, wf, row, actor)
            why = f"{actor.role!r} has signed already ({sig.actor}, {sig.at.isoformat()})"
            raise TriggerNotAllowed(row.id, trigger, row.state, allowed, why)

    def settle(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        taken: TransitionSpec | None,
        view: CaseView,
        depth: int = 0,
    ) -> CaseView:
        """After a case entered a state (``taken``: by that transition; None: created in it): a
        round that holds already (no parties to wait for) completes at once."""
        if taken is not None and taken.internal:
            return view
        d = wf.definition
        spec = sign_offs(d).get(view.state)
        if spec is None or spec.needed(len(spec.parties(view.data))) > 0:
            return view
        return self._done(tx, view.id, Round(spec, spec.parties(view.data)), depth)

    def seen(self, tx: Tx, d: Definition, row: CaseRow, data: Mapping[str, Any]) -> Round | None:
        """The round the case is in (None: its state has no sign-off)."""
        if row.state not in sign_offs(d):
            return None
        return current_round(d, row.state, data, _events(tx, row.id))

    def available(
        self,
        tx: Tx,
        d: Definition,
        row: CaseRow,
        data: Mapping[str, Any],
        actor: Actor,
        found: list[str],
    ) -> list[str]:
        """``found`` as ``actor`` may fire them in a sign-off state: the sign trigger for a
        party that has not signed, never ``done``, ``refuse`` only for such a party."""
        spec = sign_offs(d).get(row.state)
        if spec is None:
            return found
        got = self.seen(tx, d, row, data)
        assert got is not None
        may = got.party_of(actor) is not None
        out = [
            t
            for t in found
            if t != spec.done and (t != spec.refuse or may or actor.role in (ADMIN, SYSTEM))
        ]
        if may and not got.holds:
            out.append(spec.trigger)
        return out

    def _check(self, d: Definition, spec: SignOffSpec) -> SchemaCheck:
        key = (d.content_hash, spec.state)
        check = self._checks.get(key)
        if check is None:
            check = self._checks[key] = SchemaCheck(spec.payload_schema)
        return check
