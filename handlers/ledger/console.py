"""Console pages of the outfall ledger (排污口台账): /ledger, the records with filters (county,
sub-type, river, status, rectification stage, a text search on code and name) as GET
parameters, paged by code; /ledger/{code}, the outfall's page: its ID card (the fields of
``idcard.build_card`` as the ID card shows them, the QR code of its public page
``/o/{code}``), the cases about it and the history of its record. Every read is ``Ledger``
with the signed-in actor: an outfall the user may not read is a 404 page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from engine.console.accounts import SignedIn
from engine.console.labels import Labels
from engine.console.web import ConsoleRoute, Signed, engine_of, labels_of, render
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import SubjectEventRow
from handlers.ledger import Ledger, OutfallView
from handlers.ledger.idcard import SECTIONS, build_card, qr
from handlers.ledger.io import COLUMNS, HEADER_OF, LABELS, CellWriter
from handlers.ledger.record import RECTIFICATION_STATUSES, STATUSES
from handlers.reference import data as ref
from handlers.titles import Titles

__all__ = ["PAGE_SIZE", "Filters", "outfall_page", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 20
_BATCH = 500
_LEDGER_FILTERS = ("county", "sub_type", "river", "status")
_CHANGES = {"created": "录入台账", "updated": "变更"}


@dataclass(frozen=True)
class Filters:
    """The list's GET parameters; empty ones are no filter."""

    county: str | None = None
    sub_type: str | None = None
    river: str | None = None
    status: str | None = None
    stage: str | None = None  # rectification_status
    q: str | None = None

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Filters:
        def given(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value[:64] or None

        return cls(*(given(n) for n in (*_LEDGER_FILTERS, "stage", "q")))

    def ledger(self) -> dict[str, str | None]:
        return {n: getattr(self, n) for n in _LEDGER_FILTERS}

    def query(self, **more: str) -> str:
        from urllib.parse import urlencode

        pairs = {n: getattr(self, n) for n in (*_LEDGER_FILTERS, "stage", "q")}
        pairs.update(more)
        return urlencode({k: v for k, v in pairs.items() if v})

    def matches(self, view: OutfallView) -> bool:
        """The filters the ledger's store does not apply: the stage and the text search."""
        record = view.record
        if self.stage and record.get("rectification_status") != self.stage:
            return False
        if self.q:
            text = self.q.casefold()
            return any(text in str(record.get(f, "")).casefold() for f in ("code", "name"))
        return True


def _scan(ledger: Ledger, actor: Actor, filters: Filters, after: str | None) -> Iterator[Any]:
    while True:
        batch = ledger.list(actor, after=after, limit=_BATCH, **filters.ledger())
        yield from (v for v in batch if filters.matches(v))
        if len(batch) < _BATCH:
            return
        after = batch[-1].code


def list_page(
    ledger: Ledger, actor: Actor, filters: Filters, after: str | None
) -> tuple[list[OutfallView], int, str | None]:
    """One page of outfalls after the code ``after``, the number matching, the next page's
    ``after`` (None at the end)."""
    if filters.stage is None and filters.q is None:
        views = ledger.list(actor, after=after, limit=PAGE_SIZE + 1, **filters.ledger())
        total = ledger.count(actor, **filters.ledger())
    else:
        views = []
        total = 0
        for view in _scan(ledger, actor, filters, None):
            total += 1
            if (after is None or view.code > after) and len(views) <= PAGE_SIZE:
                views.append(view)
    page = views[:PAGE_SIZE]
    return page, total, (page[-1].code if len(views) > PAGE_SIZE else None)


def _choices(engine: Engine, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """The options of the filters; the counties are those the user may read."""
    reference = engine.reference
    rivers = reference.get("rivers") or {}
    counties = [c for c in ref.county_codes(reference) if engine.scope.covers(actor, c)]
    return {
        "county": [(c, ref.jurisdiction_name(reference, c)) for c in counties],
        "sub_type": [(s["code"], s["name"]) for s in ref.sub_types(reference)],
        "river": [(r["code"], r.get("name", r["code"])) for r in rivers.get("rivers") or []],
        "status": [(s, LABELS["status"][s]) for s in STATUSES],
        "stage": [(s, LABELS["rectification_status"][s]) for s in RECTIFICATION_STATUSES],
    }


@router.get("/ledger")
def ledger_page(request: Request, signed: Signed, after: str | None = None) -> HTMLResponse:
    engine = engine_of(request)
    ledger = Ledger(engine)
    filters = Filters.of(request.query_params)
    page, total, following = list_page(ledger, signed.actor, filters, after or None)
    writer = CellWriter(engine.reference)
    columns = ("code", "name", "sub_type", "county", "river", "status", "rectification_status")
    index = {c.field: i for i, c in enumerate(COLUMNS)}
    rows = []
    for view in page:
        cells = writer.row(view.record)
        rows.append({"code": view.code, "cells": [cells[index[c]] for c in columns]})
    return render(
        request,
        "ledger/list.html",
        {
            "filters": filters,
            "choices": _choices(engine, signed.actor),
            "header": [HEADER_OF[c] for c in columns],
            "rows": rows,
            "total": total,
            "first": f"/ledger?{filters.query()}" if after else None,
            "next": f"/ledger?{filters.query(after=following)}" if following else None,
        },
    )


# -- one outfall ------------------------------------------------------------------------------


def _base_url(request: Request) -> str:
    """The base of the QR code's address (the outfall's public page, ``/o/{code}``): the
    deployment's public address when the app knows it (``app.state.public_base_url``), else
    the address the console was reached at."""
    found = getattr(request.app.state, "public_base_url", None)
    return str(found or request.base_url).rstrip("/")


def _change_text(row: SubjectEventRow, writer: CellWriter) -> str:
    changed = dict((row.patch or {}).get("set") or {})
    shown = writer.row(changed)
    parts = [
        f"{c.header}：{v}"
        for c, v in zip(COLUMNS, shown, strict=True)
        if c.field in changed and v not in (None, "")
    ]
    gone = [HEADER_OF.get(str(n), str(n)) for n in (row.patch or {}).get("unset") or []]
    if gone:
        parts.append("清除：" + "、".join(gone))
    return "；".join(parts)


def _section_of(workflow: str) -> int:
    for i, (_, workflows) in enumerate(SECTIONS):
        if workflow in workflows:
            return i
    return len(SECTIONS)


def outfall_page(
    ledger: Ledger, code: str, base_url: str, signed: SignedIn, labels: Labels
) -> dict[str, Any]:
    """What the outfall's page shows, read as ``signed`` may read it (OutfallNotFound else)."""
    actor = signed.actor
    card = build_card(ledger, code, base_url, actor)
    writer = CellWriter(ledger.reference)
    fields = [
        (c.header, v)
        for c, v in zip(COLUMNS, writer.row(card.record), strict=True)
        if v not in (None, "")
    ]
    titles = Titles(ledger.engine)
    cases = []
    for history in sorted(card.histories, key=lambda h: (_section_of(h.case.workflow), h.case.id)):
        case = history.case
        cases.append(
            {
                "id": case.id,
                "workflow": titles.workflow(case.workflow, case.workflow_version),
                "state": titles.state(case.workflow, case.state, case.workflow_version),
                "open": case.is_open,
                "created": labels.local(case.created_at),
                "updated": labels.local(case.updated_at),
            }
        )
    changes = [
        {
            "at": labels.local(row.at),
            "change": _CHANGES.get(row.change, row.change),
            "actor": row.actor,
            "role": labels.role(row.role),
            "text": _change_text(row, writer),
        }
        for row in ledger.history(code, actor)
    ]
    svg = qr(card.url).svg_inline(scale=4, title=card.code)
    return {
        "code": card.code,
        "name": card.record.get("name", ""),
        "url": card.url,
        "fields": fields,
        "qr": Markup(svg),  # segno's own markup: a path, no script, no style attribute
        "cases": cases,
        "changes": changes,
    }


@router.get("/ledger/{code}")
def outfall(request: Request, signed: Signed, code: str) -> HTMLResponse:
    ledger = Ledger(engine_of(request))
    found = outfall_page(ledger, code, _base_url(request), signed, labels_of(request))
    return render(request, "ledger/outfall.html", found)
