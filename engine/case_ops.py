"""What a guard or action may do besides changing its own case, inside the transaction that
runs it (``engine.handlers.CaseOps``): open cases, read and write subjects (e.g. the ledger).
The engine hands each handler a ``TxOps`` bound to that transaction, its actor and its time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.handlers import Actor
from engine.scope import Scope
from engine.store.repository import Tx
from engine.views import CaseView

__all__ = ["Create", "TxOps"]

# Engine._create: open a case of a workflow inside a transaction.
Create = Callable[[Tx, str, dict[str, Any], Actor, "str | None", datetime], CaseView]


class TxOps:
    def __init__(self, tx: Tx, actor: Actor, now: datetime, create: Create, scope: Scope) -> None:
        self._tx, self._actor, self._now = tx, actor, now
        self._create, self._scope = create, scope

    def open_case(self, workflow: str, data: Mapping[str, Any], subject: str | None = None) -> int:
        return self._create(self._tx, workflow, dict(data), self._actor, subject, self._now).id

    def open_case_if_absent(
        self, workflow: str, data: Mapping[str, Any], subject: str
    ) -> tuple[int, bool]:
        """The open case of ``workflow`` about ``subject``, opening one if there is none;
        ``(case_id, opened)``."""
        existing = self._tx.open_case_for_subject(workflow, subject)
        if existing is not None:
            return existing, False
        return self.open_case(workflow, data, subject), True

    def get_subject(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._tx.get_subject(kind, key)

    def list_subjects(self, kind: str, jurisdiction: str | None = None) -> list[dict[str, Any]]:
        """Subjects of ``kind`` in ``jurisdiction`` and beneath it (every one when None), in key
        order, as ``{"key", "jurisdiction", "data"}``."""
        within = self._scope.beneath(jurisdiction) if jurisdiction is not None else None
        rows = self._tx.list_subjects(kind, jurisdictions=within)
        return [{"key": r.key, "jurisdiction": r.jurisdiction, "data": r.data} for r in rows]

    def put_subject(
        self, kind: str, key: str, data: Mapping[str, Any], jurisdiction: str | None = None
    ) -> None:
        self._tx.put_subject(kind, key, data, jurisdiction, self._now)
