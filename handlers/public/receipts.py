"""Receipt codes of 随手拍 reports, and what a receipt shows.

A receipt code is 12 characters of Crockford's base32 drawn by ``secrets`` (60 bits), shown in
groups of four (``7KQ2-M9XD-4HRT``). Only its keyed hash (HMAC-SHA-256 under the
``public_receipts`` key of ``engine.keys``) is stored, with the case it opened
(``public_receipts``): the database alone cannot list the codes. Whoever holds the code reads
the report's status at ``/r/{code}``; lower case, spaces, hyphens and the look-alikes
``O``/``I``/``L`` are read as Crockford reads them.

What the status shows is a whitelist (``status_of``): the state in Chinese, the dates of the
state changes in local time, the department that handles it, and the reply once the reporter
was answered. Nothing else of the case reaches the page: not the reporter's name or phone, not
the investigators' names, not the findings or any note written inside.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from engine.console.labels import Labels
from engine.runtime import Engine
from handlers.public.limits import ReceiptNotFound
from handlers.public.web import SITE
from handlers.reference import data as ref

__all__ = ["ALPHABET", "display", "issue", "normalise", "receipt_hash", "status_of"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
LENGTH = 12
KEY = "public_receipts"
WORKFLOW = "public_report"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# The history rows a receipt shows besides the state changes (admin corrections are internal).
_NOTES = {"cancelled": "案件已撤销", "reopened": "重新办理"}


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(given: str) -> str | None:
    """The code as stored (12 capitals of the alphabet), or None when ``given`` is not one."""
    code = "".join(given.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def receipt_hash(engine: Engine, code: str) -> str:
    return hmac.new(engine.keys.get(KEY), code.encode(), hashlib.sha256).hexdigest()


def issue(engine: Engine, case_id: int) -> str:
    """A new receipt code for ``case_id`` (shown once: only its hash is kept)."""
    code = new_code()
    with engine.store.write() as tx:
        tx.insert_receipt(receipt_hash(engine, code), case_id, engine.clock.now())
    return code


def case_of(engine: Engine, given: str) -> int:
    """The case of a receipt code; ``ReceiptNotFound`` for any other text."""
    code = normalise(given)
    if code is None:
        raise ReceiptNotFound
    with engine.store.read() as tx:
        found = tx.receipt_case(receipt_hash(engine, code))
    if found is None:
        raise ReceiptNotFound
    return found


def _department(reference: Mapping[str, Any], labels: Labels, code: Any) -> str:
    if not code:
        return ""
    found = ref.department(reference, str(code))
    return str(found["name"]) if found else labels.role(str(code))


def status_of(engine: Engine, case_id: int, labels: Labels) -> dict[str, Any]:
    """What the receipt page shows of the case: a whitelist, read as the site."""
    view = engine.get_case(case_id, SITE)
    if view.case.workflow != WORKFLOW:
        raise ReceiptNotFound
    _, definition = engine.definition(WORKFLOW, view.case.workflow_version)
    titles = {name: state.title or name for name, state in definition.states.items()}
    timeline = []
    for event in engine.history(case_id, SITE):
        if event.kind == "created" or (
            event.kind == "transition" and event.to_state != event.from_state
        ):
            title = titles.get(str(event.to_state), str(event.to_state))
        elif event.kind in _NOTES:
            title = _NOTES[event.kind]
        else:
            continue
        timeline.append({"at": labels.local(event.at), "title": title})
    data = view.data
    replied = view.case.state == "replied" and isinstance(data.get("reply"), str)
    return {
        "state": view.case.state,
        "state_title": view.state_title,
        "open": view.case.is_open,
        "received_at": labels.local(view.case.created_at),
        "county": labels.jurisdiction(view.case.jurisdiction),
        "department": _department(engine.reference, labels, data.get("assigned_department")),
        "timeline": timeline,
        "reply": data["reply"] if replied else None,
    }
