"""What a guard or action may do besides changing its own case, inside the transaction that
runs it (``engine.handlers.CaseOps``): open cases, read and write subjects (e.g. the ledger).
The engine hands each handler a ``TxOps`` bound to that transaction, its actor and its time:
the logical time of the change (a timer's due time when a late sweep fires it), which cases
opened here take as theirs, and the real moment (``wall``), which the history rows keep."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.errors import Forbidden, Refused
from engine.handlers import Actor
from engine.history import HISTORY_KEY, diff
from engine.keys import KeyRing
from engine.scope import Scope
from engine.store.repository import Tx
from engine.views import CaseView

__all__ = ["Create", "TxOps"]

# Engine._create: open a case of a workflow inside a transaction, as of ``now`` (the logical
# time), the last argument being the real moment when it differs (else None).
Create = Callable[
    [Tx, str, dict[str, Any], Actor, "str | None", datetime, "datetime | None"], CaseView
]

# Engine.open_case_for: the open case of a workflow about a subject, in the data's jurisdiction.
FindOpen = Callable[[Tx, str, Mapping[str, Any], str], "int | None"]
# The longest subject key the store keeps (cases.subject, subject_events.subject_key).
SUBJECT_KEY_MAX = 200


def _bounded(kind: str, key: str | None) -> None:
    """A key longer than its column is refused here, before any backend is asked to store it
    (PostgreSQL would fail the statement; SQLite would keep it). Workflows bound the fields
    that become keys with ``maxLength``, so a caller meets the schema's 422 first."""
    if key is not None and len(key) > SUBJECT_KEY_MAX:
        raise Refused(
            f"{kind} key of {len(key)} characters is longer than the {SUBJECT_KEY_MAX} "
            "the store keeps"
        )


class TxOps:
    """``within``: the jurisdiction of the case whose handler runs (None: no case, e.g. the
    ledger service, which checks its caller's reach itself). A handler reads and writes only
    subjects of that jurisdiction and beneath it. Every subject written is a row of that
    subject's history (``keys``: where the history chain's key is), in the same transaction."""

    def __init__(
        self,
        tx: Tx,
        actor: Actor,
        now: datetime,
        create: Create,
        scope: Scope,
        within: str | None,
        find_open: FindOpen | None = None,
        *,
        keys: KeyRing | None = None,
        wall: datetime | None = None,
    ) -> None:
        self._tx, self._actor, self._now, self._keys = tx, actor, now, keys
        self._wall = wall  # the real moment, when it differs from the logical ``now``
        self._create, self._scope = create, scope
        self._within = None if within is None else scope.below(within)
        self._find_open = find_open
        self.jurisdiction = within

    def covers(self, jurisdiction: str | None) -> bool:
        """A subject of ``jurisdiction`` is within this handler's reach."""
        return self._within is None or (jurisdiction is not None and jurisdiction in self._within)

    def open_case(self, workflow: str, data: Mapping[str, Any], subject: str | None = None) -> int:
        _bounded("subject", subject)
        return self._create(
            self._tx, workflow, dict(data), self._actor, subject, self._now, self._wall
        ).id

    def open_case_if_absent(
        self, workflow: str, data: Mapping[str, Any], subject: str
    ) -> tuple[int, bool]:
        """The open case of ``workflow`` about ``subject``, opening one if there is none;
        ``(case_id, opened)``."""
        assert self._find_open is not None
        existing = self._find_open(self._tx, workflow, data, subject)
        if existing is not None:
            return existing, False
        return self.open_case(workflow, data, subject), True

    def get_subject(self, kind: str, key: str) -> dict[str, Any] | None:
        """The subject's data; None when there is none or it lies outside this case's
        jurisdiction (another county's record does not exist for this county's handlers)."""
        if self._within is None:
            return self._tx.get_subject(kind, key)
        rows = self._tx.list_subjects(kind, keys=[key])
        return dict(rows[0].data) if rows and self.covers(rows[0].jurisdiction) else None

    def owner_of(self, kind: str, key: str) -> str | None:
        """The jurisdiction whose record ``key`` is (None: no record, or one of no
        jurisdiction): only where it lies, so a case can refuse another county's code without
        reading its record."""
        rows = self._tx.list_subjects(kind, keys=[key])
        return rows[0].jurisdiction if rows else None

    def list_subjects(self, kind: str, jurisdiction: str | None = None) -> list[dict[str, Any]]:
        """Subjects of ``kind`` in ``jurisdiction`` and beneath it (every one when None), in key
        order, as ``{"key", "jurisdiction", "data"}``; only those within this case's reach."""
        within = self._scope.beneath(jurisdiction) if jurisdiction is not None else None
        rows = self._tx.list_subjects(kind, jurisdictions=within)
        return [
            {"key": r.key, "jurisdiction": r.jurisdiction, "data": r.data}
            for r in rows
            if self.covers(r.jurisdiction)
        ]

    def put_subject(
        self,
        kind: str,
        key: str,
        data: Mapping[str, Any],
        jurisdiction: str | None = None,
        *,
        by: Actor | None = None,
    ) -> None:
        """Write a subject, and the change as a row of its history in the keyed chain, naming
        ``by`` (default: the actor whose handler runs). Refused when the record (as it is, or
        as written) lies outside this case's jurisdiction: a payload cannot move a record to
        another county."""
        _bounded(kind, key)
        rows = self._tx.list_subjects(kind, keys=[key])
        before = rows[0] if rows else None
        if self._within is not None:
            was = before.jurisdiction if before is not None else None
            # A subject of no jurisdiction (not a county's record) may be written by any case;
            # a county's record stays with that county.
            unowned = was is None and jurisdiction is None
            stays = (was is None or self.covers(was)) and self.covers(jurisdiction)
            if not unowned and not stays:
                where = was if was is not None and not self.covers(was) else jurisdiction
                raise Forbidden(
                    f"{kind} {key!r} belongs to {where}, outside this case's jurisdiction "
                    f"({self.jurisdiction})",
                    role=self._actor.role,
                )
        written = self._wall or self._now  # the real moment: subject rows have no due time
        self._tx.put_subject(kind, key, data, jurisdiction, written)
        patch = diff(before.data if before is not None else {}, data)
        if not patch or self._keys is None:
            return
        who = by or self._actor
        change = {
            "subject_kind": kind,
            "subject_key": key,
            "change": "created" if before is None else "updated",
            "actor": who.name,
            "role": who.role,
            "jurisdiction": who.jurisdiction,
            "patch": patch,
            "at": written,
        }
        self._tx.append_subject_event(change, self._keys.get(HISTORY_KEY))

    def add_subjects(
        self,
        kind: str,
        items: list[tuple[str, Mapping[str, Any], str | None]],
        *,
        by: Actor | None = None,
    ) -> None:
        """Write subjects new to the store, ``(key, data, jurisdiction)``, in one statement,
        each with the ``created`` row of its history (a bulk import): what ``put_subject``
        writes for a subject that does not exist yet. Only outside a case (``within`` None):
        the caller has checked its reach and that the keys are absent."""
        if self._within is not None:
            raise Forbidden("subjects are added in bulk only outside a case", role=self._actor.role)
        for key, _, _ in items:
            _bounded(kind, key)
        written = self._wall or self._now
        self._tx.insert_subjects(kind, items, written)
        if self._keys is None:
            return
        who = by or self._actor
        rows = []
        for key, data, _ in items:
            patch = diff({}, data)
            if patch:
                rows.append(
                    {
                        "subject_kind": kind,
                        "subject_key": key,
                        "change": "created",
                        "actor": who.name,
                        "role": who.role,
                        "jurisdiction": who.jurisdiction,
                        "patch": patch,
                        "at": written,
                    }
                )
        self._tx.append_first_subject_events(rows, self._keys.get(HISTORY_KEY))
