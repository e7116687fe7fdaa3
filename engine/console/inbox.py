"""待办 (``/inbox``) and the case list (``/cases``): the signed-in user's work list, and every
case it may read with filters, both in the same rows: the case (workflow title, subject and
outfall, state title, jurisdiction name), the triggers its role may fire there (guards are not
evaluated for a list: the case page shows the exact ones) and the badge of its earliest
deadline with the due date in local time.

Both read through the facade with the signed-in actor (``Engine.inbox``, ``Engine.list_cases``):
the read scope of the API. ``/cases`` takes its filters as GET parameters (``workflow``,
``state``, ``jurisdiction``, ``overdue`` = true | false, ``subject``, ``open`` = true | false |
all, default true) so a link (the board's counts) can point at a filtered list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.api.models import MAX_ID
from engine.console.deadlines import Badge, badge
from engine.console.web import ConsoleRoute, Signed, engine_of, labels_of, render
from engine.errors import InvalidRequest
from engine.runtime import Engine
from engine.worklist import WorkItem

__all__ = ["Row", "router", "rows_of"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE = 50
_MAX_OFFSET = 1_000_000
_OUTFALL_NAMES = ("outfall_name", "name")


@dataclass(frozen=True)
class Row:
    """One line of a list, ready for the template (no rule left to it)."""

    id: int
    workflow_title: str
    subject: str
    outfall_name: str
    state_title: str
    jurisdiction: str
    triggers: list[str]
    badge: Badge | None
    due: str
    is_open: bool


def rows_of(request: Request, engine: Engine, items: list[WorkItem]) -> list[Row]:
    labels = labels_of(request)
    calendar = engine.planner.calendar
    now = engine.clock.now()
    out = []
    for item in items:
        case = item.view.case
        data = item.view.data
        name = next((str(data[k]) for k in _OUTFALL_NAMES if isinstance(data.get(k), str)), "")
        code = case.subject or str(data.get("outfall_code") or "")
        deadline = item.deadline
        out.append(
            Row(
                id=case.id,
                workflow_title=item.workflow_title,
                subject=code,
                outfall_name=name,
                state_title=item.view.state_title,
                jurisdiction=labels.jurisdiction(case.jurisdiction) if case.jurisdiction else "",
                triggers=[t.title or t.trigger for t in item.triggers],
                badge=badge(calendar, now, deadline) if deadline is not None else None,
                due=calendar.day_of(deadline.due_at).isoformat() if deadline else "",
                is_open=case.is_open,
            )
        )
    return out


@router.get("/inbox")
def inbox(
    request: Request,
    signed: Signed,
    offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
) -> Response:
    engine = engine_of(request)
    page = engine.inbox(signed.actor, offset=offset, limit=PAGE)
    return render(
        request,
        "inbox/inbox.html",
        {
            "page": page,
            "rows": rows_of(request, engine, page.items),
            "previous": max(offset - PAGE, 0) if offset > 0 else None,
            "next": offset + PAGE if page.more else None,
        },
    )


def _flag(value: str | None, name: str) -> bool | None:
    if value in (None, "", "all"):
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise InvalidRequest(f"筛选条件 {name} 只能是 true 或 false (bad {name}: {value!r})")


@router.get("/cases")
def case_list(
    request: Request,
    signed: Signed,
    workflow: str | None = None,
    state: str | None = None,
    jurisdiction: str | None = None,
    overdue: str | None = None,
    subject: str | None = None,
    open: str | None = "true",  # noqa: A002 - the query parameter's name
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    engine = engine_of(request)
    actor = signed.actor
    chosen = {
        "workflow": workflow or None,
        "state": state or None,
        "jurisdiction": jurisdiction or None,
        "overdue": overdue or "",
        "subject": (subject or "").strip() or None,
        "open": open if open is not None else "true",
    }
    late = _flag(chosen["overdue"], "overdue")
    is_open = _flag(chosen["open"], "open")
    if chosen["jurisdiction"] is not None and not engine.scope.knows(chosen["jurisdiction"]):
        raise InvalidRequest(f"没有这个辖区 (unknown jurisdiction: {chosen['jurisdiction']!r})")
    now = engine.clock.now()
    views = engine.list_cases(
        actor,
        jurisdiction=chosen["jurisdiction"],
        workflow=chosen["workflow"],
        state=chosen["state"],
        subject=chosen["subject"],
        is_open=is_open,
        overdue_at=now if late is True else None,
        not_overdue_at=now if late is False else None,
        after_id=after,
        limit=PAGE + 1,
    )
    more = len(views) > PAGE
    views = views[:PAGE]
    rows = rows_of(request, engine, engine.work_items(views, actor))
    kept = {k: v for k, v in chosen.items() if v}
    return render(
        request,
        "inbox/cases.html",
        {
            "rows": rows,
            "chosen": chosen,
            "choices": _choices(request, engine, signed),
            "next": "/cases?" + urlencode({**kept, "after": views[-1].id}) if more else None,
            "first": "/cases?" + urlencode(kept) if after else None,
        },
    )


def _choices(request: Request, engine: Engine, signed: Signed) -> dict[str, Any]:
    """The filters' options: the workflows (titles) and their states, the jurisdictions the
    user reaches (names)."""
    labels = labels_of(request)
    flows = []
    for row in engine.definitions():
        _, d = engine.definition(row.name)
        states = [(s.name, s.title) for s in d.states.values()]
        flows.append((d.name, d.title, states))
    reach = engine.scope.narrow(signed.actor)
    codes = reach if reach is not None else sorted(labels.jurisdictions)
    places = [(c, labels.jurisdiction(c)) for c in codes]
    return {"workflows": flows, "jurisdictions": places}
