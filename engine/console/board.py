"""督办看板 (``/board``): for supervisors (the admin and roles of city, province or national
level), the open cases beneath their jurisdiction as a table of jurisdictions (the ones right
beneath the user's: a city sees its counties) × workflows, each cell three counts coloured as
the deadline badge: red, a running deadline past due; yellow, the earliest due within
``WARN_WORKING_DAYS`` working days; green, the others open (no running deadline too). Counted
in SQL (``Engine.board``), in the user's read scope. Each count links to the case list
filtered to its cell: red to ``overdue=true``, yellow and green to ``overdue=false``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.console.deadlines import WARN_WORKING_DAYS
from engine.console.menu import is_supervisor
from engine.console.web import ConsoleRoute, Signed, engine_of, labels_of, render
from engine.errors import Forbidden
from engine.runtime import Engine
from engine.scope import Scope
from engine.time.calendar import WorkingCalendar
from engine.worklist import BoardCount

__all__ = ["COLOURS", "Board", "build_board", "router", "soon_cutoff"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

COLOURS = ("red", "yellow", "green")
_MAX_DAYS = 60


def soon_cutoff(
    calendar: WorkingCalendar, now: datetime, days: int = WARN_WORKING_DAYS
) -> datetime:
    """The end of the ``days``-th working day counted from today (today counts when it is
    one): a deadline due before it has at most ``days`` working days left (the badge's
    yellow)."""
    day = calendar.local_date(now)
    counted = 0
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                break
        day += timedelta(days=1)
    return calendar.end_of_day(day)


@dataclass
class Cell:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    links: dict[str, str] = field(default_factory=dict)


@dataclass
class Board:
    workflows: list[tuple[str, str]]  # (name, title), the columns
    rows: list[tuple[str, str, dict[str, Cell]]]  # (code, name, cells by workflow)
    totals: dict[str, int]


def _start(scope: Scope, jurisdiction: str | None) -> str | None:
    if jurisdiction is not None:
        return jurisdiction
    roots = [code for code, parent in scope.parents.items() if parent is None]
    return roots[0] if len(roots) == 1 else None


def _row_of(scope: Scope, start: str | None, code: str | None) -> str | None:
    """The jurisdiction right beneath ``start`` that ``code`` lies in (``code`` itself when it
    is ``start`` or not beneath it)."""
    seen: set[str] = set()
    here = code
    while here is not None and here not in seen:
        parent = scope.parents.get(here)
        if parent == start:
            return here
        seen.add(here)
        here = parent
    return code


def build_board(
    engine: Engine, counts: list[BoardCount], start: str | None, names: dict[str, str]
) -> Board:
    """The table from the grouped counts; ``names``: workflow titles."""
    grid: dict[str | None, dict[str, Cell]] = {}
    totals = dict.fromkeys(COLOURS, 0)
    used: set[str] = set()
    for c in counts:
        row = _row_of(engine.scope, start, c.jurisdiction)
        cell = grid.setdefault(row, {}).setdefault(c.workflow, Cell())
        cell.counts[c.colour] += c.count
        totals[c.colour] += c.count
        used.add(c.workflow)
    workflows = sorted(((w, names.get(w, w)) for w in used), key=lambda p: p[0])
    rows = []
    for code in sorted(grid, key=lambda j: (j is None, j or "")):
        cells = grid[code]
        for workflow, cell in cells.items():
            for colour in COLOURS:
                query: dict[str, str] = {"workflow": workflow}
                if code is not None:
                    query["jurisdiction"] = code
                query["overdue"] = "true" if colour == "red" else "false"
                cell.links[colour] = "/cases?" + urlencode(query)
        rows.append((code or "", code or "", cells))
    return Board(workflows, rows, totals)


@router.get("/board")
def board(request: Request, signed: Signed) -> Response:
    engine = engine_of(request)
    actor = signed.actor
    if not is_supervisor(engine, actor.role):
        raise Forbidden("督办看板仅对市级及以上主管部门开放 (supervisors only)", role=actor.role)
    labels = labels_of(request)
    soon = soon_cutoff(engine.planner.calendar, engine.clock.now())
    start = _start(engine.scope, actor.jurisdiction)
    table = build_board(engine, engine.board(actor, soon), start, dict(engine.workflow_titles()))
    table.rows = [
        (code, labels.jurisdiction(code) if code else "未定辖区", cells)
        for code, _, cells in table.rows
    ]
    return render(
        request,
        "board/board.html",
        {
            "board": table,
            "start": labels.jurisdiction(start) if start else "全部辖区",
            "warn_days": WARN_WORKING_DAYS,
            "now": labels.local(engine.clock.now()),
        },
    )
