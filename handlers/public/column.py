"""/gk: the public column (排污口整治及管理工作专栏, 聊政办字〔2023〕11号 四(四)), for anyone,
without signing in, as of a day (``?as_of=YYYY-MM-DD``, default: today by the engine's clock in
China, as the reports count it).

    /gk                  progress by county against the plan's deadlines: the internal reports
                         (``handlers.reports.compute.progress`` and ``deadlines``), read as the
                         site, never counted again here
    /gk/decisions        设置审批 and 登记 decisions (公示, 三(四)2)
    /gk/inspections      双随机 spot-check results after each inspection (一公开, 三(三))
    /gk/enforcement      penalty decisions (行政处罚决定书)
    /gk/{list}.csv|json  each list (and progress, deadlines) for reuse: CSV in UTF-8 with a BOM
                         and Chinese headers, JSON with English keys; the same as-of rule

Every answer is cached under the history head and the day (``web.cached_page``) and carries an
ETag. The day is between 1 January of the plan's year (``first_day``) and today: another is 422
as a wrong date is. The lists come from ``handlers.public.lists`` (whitelists of fields).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from engine.console.web import ConsoleRoute
from engine.errors import FieldError, InvalidRequest, NotFound
from handlers.ledger import Ledger
from handlers.public import lists
from handlers.public.web import SITE, cached_page, engine_of, public_page, rendered
from handlers.reports import compute
from handlers.reports.compute import Report
from handlers.reports.console import BAR_WIDTH, parse_day

__all__ = ["county_rows", "data_router", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
data_router = APIRouter(include_in_schema=False)

# The downloads: the two reports and the three lists.
DOWNLOADS = ("progress", "deadlines", *lists.LISTS)
TABS = (
    ("", "整治进展"),
    ("decisions", "审批登记公示"),
    ("inspections", "双随机抽查"),
    ("enforcement", "行政处罚"),
)
# The stage counts of the progress report summed per county (the rate is done / due).
_SUMMED = ("total", "untraced", "tracing", "not_needed", "retained", "pending", "rectifying")
_SUMMED += ("done", "due", "new", "new_cleared")


class _NoSuchList(NotFound):
    status, kind, exit_code = 404, "public-list-not-found", 3
    title = "No such public list"

    def __init__(self, name: str) -> None:
        super().__init__(f"专栏没有名为 {name!r} 的清单 (no such list)")


def first_day(reference: Mapping[str, Any]) -> date:
    """The first day the column answers for: 1 January of the year of the plan's earliest
    date (``deadlines.yaml``: 2023-01-01); before it the campaign had not begun."""
    written = ((reference.get("deadlines") or {}).get("deadlines") or {}).values()
    days = [date.fromisoformat(str(d)) for d in written if d]
    return date(min(days).year, 1, 1) if days else date(2023, 1, 1)


def _day(request: Request, as_of: str | None) -> date:
    """The as-of day: today (the engine clock, in China) unless given; a day after today or
    before ``first_day`` is refused as a wrong date is, so no one builds (and caches) a page
    for every day of a thousand years."""
    engine = engine_of(request)
    today = compute.today(engine.clock.now())
    day = parse_day(as_of, today)
    first = first_day(engine.reference)
    if not first <= day <= today:
        raise InvalidRequest(
            f"日期 {as_of!r} 超出范围，请填写 {first.isoformat()} 至今天 ({today.isoformat()}) "
            f"之间的日期 (as_of is not between {first.isoformat()} and today)",
            [FieldError("$.as_of", "not between the plan's start and today", where="query")],
        )
    return day


def _past(request: Request, day: date) -> bool:
    return day < compute.today(engine_of(request).clock.now())


def _rate(done: int, due: int) -> str:
    return f"{100 * done / due:.1f}%" if due else "-"


def county_rows(report: Report) -> list[dict[str, Any]]:
    """The progress report's rows summed per county (its sub-types), in the report's order,
    then its own 合计 row; each with ``done_rate`` as the report writes it."""
    k = {key: i for i, key in enumerate(report.keys)}
    out: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] | None = None
    for row in report.rows:
        if row[k["county"]] == "合计":
            total = {"county": "合计", **{s: row[k[s]] for s in (*_SUMMED, "done_rate")}}
            continue
        found = out.setdefault(row[k["county"]], {"county": row[k["county"]]})
        for s in _SUMMED:
            found[s] = found.get(s, 0) + row[k[s]]
    rows = list(out.values())
    for r in rows:
        r["done_rate"] = _rate(r["done"], r["due"])
        r["bar"] = round(BAR_WIDTH * r["done"] / r["due"]) if r["due"] else 0
    return rows + ([total] if total else [])


def _deadline_scopes(report: Report) -> list[dict[str, Any]]:
    """The deadlines report's rows by scope (黄河流域 2024-06-30, 全市 2025-12-31)."""
    k = {key: i for i, key in enumerate(report.keys)}
    scopes: dict[tuple[str, str], dict[str, Any]] = {}
    for row in report.rows:
        key = (row[k["scope"]], row[k["deadline"]])
        scope = scopes.setdefault(
            key, {"scope": key[0], "deadline": key[1], "status": row[k["status"]], "rows": []}
        )
        scope["rows"].append(dict(zip(report.keys, row, strict=True)))
    return list(scopes.values())


def _reports(request: Request, day: date) -> tuple[Report, Report]:
    ledger = Ledger(engine_of(request))
    return compute.progress(ledger, day, SITE), compute.deadlines(ledger, day, SITE)


def _context(name: str, day: date) -> dict[str, Any]:
    return {
        "as_of": day.isoformat(),
        "tabs": TABS,
        "tab": name,
        "downloads": [name] if name else ["progress", "deadlines"],
        "names": dict(TABS) | {"progress": "整治进展", "deadlines": "对照时限"},
    }


def _not_a_day(request: Request, error: InvalidRequest) -> Response:
    """A page in the public layout saying the date is wrong (not the console's error page)."""
    context = {"message": str(error), "tabs": TABS, "tab": None, "as_of": ""}
    return public_page(request, "public/column/error.html", context, status=error.status)


@router.get("/gk")
def column_home(request: Request, as_of: str | None = None) -> Response:
    try:
        day = _day(request, as_of)
    except InvalidRequest as error:
        return _not_a_day(request, error)

    def build() -> tuple[bytes, str]:
        progress, deadlines = _reports(request, day)
        counties = county_rows(progress)
        context = {
            **_context("", day),
            "counties": counties,
            "bars": [r for r in counties if r["county"] != "合计"],
            "bar_width": BAR_WIDTH,
            "scopes": _deadline_scopes(deadlines),
            "progress": progress,
        }
        return rendered(request, "public/column/home.html", context)

    return cached_page(request, ("gk", "home", day.isoformat()), build, past=_past(request, day))


def _list_page(request: Request, name: str, as_of: str | None) -> Response:
    try:
        day = _day(request, as_of)
    except InvalidRequest as error:
        return _not_a_day(request, error)
    make = lists.LISTS[name]

    def build() -> tuple[bytes, str]:
        found = make(engine_of(request), day)
        context = {**_context(name, day), "list": found}
        return rendered(request, f"public/column/{name}.html", context)

    return cached_page(request, ("gk", name, day.isoformat()), build, past=_past(request, day))


@router.get("/gk/decisions")
def column_decisions(request: Request, as_of: str | None = None) -> Response:
    return _list_page(request, "decisions", as_of)


@router.get("/gk/inspections")
def column_inspections(request: Request, as_of: str | None = None) -> Response:
    return _list_page(request, "inspections", as_of)


@router.get("/gk/enforcement")
def column_enforcement(request: Request, as_of: str | None = None) -> Response:
    return _list_page(request, "enforcement", as_of)


# -- downloads --------------------------------------------------------------------------------


def _table(request: Request, name: str, day: date) -> tuple[str, list[str], list[list[Any]], Any]:
    """(title, header, rows, JSON document) of a download."""
    if name in ("progress", "deadlines"):
        ledger = Ledger(engine_of(request))
        report = compute.run(name, ledger, day, SITE)
        return report.title, report.header, report.rows, report.to_json()
    if name not in lists.LISTS:
        raise _NoSuchList(name)
    found = lists.LISTS[name](engine_of(request), day)
    return found.title, found.header, found.table(), found.to_json()


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _download(request: Request, name: str, as_of: str | None, suffix: str) -> Response:
    if name not in DOWNLOADS:
        raise _NoSuchList(name)
    day = _day(request, as_of)

    def build() -> tuple[bytes, str]:
        _, header, rows, document = _table(request, name, day)
        if suffix == "csv":
            return csv_bytes(header, rows), "text/csv; charset=utf-8"
        text = json.dumps(document, ensure_ascii=False, indent=2)
        return text.encode("utf-8"), "application/json"

    key = ("gk", name, suffix, day.isoformat())
    answer = cached_page(request, key, build, past=_past(request, day))
    if suffix == "csv" and answer.status_code == 200:
        filename = f"{name}_{day.isoformat()}.csv"
        answer.headers["Content-Disposition"] = (
            f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
        )
    return answer


@data_router.get("/gk/{name}.csv")
def column_csv(request: Request, name: str, as_of: str | None = None) -> Response:
    return _download(request, name, as_of, "csv")


@data_router.get("/gk/{name}.json")
def column_json(request: Request, name: str, as_of: str | None = None) -> Response:
    return _download(request, name, as_of, "json")
