"""Console pages of the reports (统计报表): /reports/{progress,deadlines,overdue} as tables with
a bar chart, as of a chosen day, and /reports/{name}.xlsx, the very same table as an Excel
workbook (same report, same day, same read scope: the signed-in user's).

Every report is ``handlers.reports.compute.run`` with the signed-in actor; the page only lays
out what it returns (the bars are SVG rectangles whose widths are computed here: the CSP allows
no style attribute).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.console.web import ConsoleRoute, Signed, engine_of, render
from engine.errors import FieldError, InvalidRequest, NotFound
from handlers.ledger import Ledger
from handlers.ledger.tabular import write_table
from handlers.reports import compute
from handlers.reports.compute import Report

__all__ = ["BAR_WIDTH", "Bar", "bars", "cell_text", "parse_day", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAR_WIDTH = 480  # the width of a full bar (100 %, or the longest), in SVG units

# The reports in the order of their tabs, with their short names.
TABS: tuple[tuple[str, str], ...] = (
    ("progress", "整治进展"),
    ("deadlines", "对照时限"),
    ("overdue", "逾期与督办"),
    ("monitoring", "监督监测"),
    ("patrols", "巡河与日常检查"),
    ("campaign", "专项执法检查"),
    ("screening", "排查覆盖"),
)
_CHART_TITLES = {
    "progress": "各县区完成率（已完成 / 应整治）",
    "deadlines": "完成率（按期完成 + 逾期完成）/ 应整治",
    "overdue": "逾期天数",
    "monitoring": "已完成 / 已到期监测轮次",
    "patrols": "已巡河段 / 河段数",
    "campaign": "已检查 / 范围内排污口",
    "screening": "已排查河段 / 河段",
}
# Reports whose chart is one bar per row: (numerator key, denominator key) of the row.
_RATIOS = {
    "monitoring": ("done", "due"),
    "patrols": ("sections_patrolled", "sections"),
    "campaign": ("inspected", "outfalls"),
    "screening": ("screened", "sections"),
}
# Cells that are case numbers link to the case page.
_CASE_KEYS = frozenset({"case_id", "escalation_case_id", "task_case_id"})


class _NoSuchReport(NotFound):
    status, kind, exit_code = 404, "report-not-found", 3
    title = "No such report"

    def __init__(self, name: str) -> None:
        super().__init__(f"没有名为 {name!r} 的报表 (no such report)")


@dataclass(frozen=True)
class Bar:
    label: str
    width: int  # 0..BAR_WIDTH
    text: str


def parse_day(value: str | None, today: date) -> date:
    """The "as of" day of the date picker (``today`` when not given)."""
    if not value:
        return today
    try:
        day = date.fromisoformat(value)
        if not 1900 <= day.year <= 2999:  # a typo, and out of reach of the day arithmetic
            raise ValueError(value)
        return day
    except ValueError:
        raise InvalidRequest(
            f"日期 {value!r} 无效，请按 YYYY-MM-DD 填写 (as_of is not a date)",
            [FieldError("$.as_of", "not YYYY-MM-DD", where="query")],
        ) from None


def cell_text(value: Any) -> str:
    """A cell as the page shows it (the .xlsx holds the same value, typed)."""
    return "" if value is None else str(value)


def _fraction(done: int, total: int) -> float:
    return done / total if total else 0.0


def _percent(done: int, total: int) -> str:
    return f"{100 * done / total:.1f}%" if total else "-"


def _bar(label: str, fraction: float, text: str) -> Bar:
    return Bar(label, round(BAR_WIDTH * max(0.0, min(fraction, 1.0))), text)


def bars(report: Report) -> list[Bar]:
    """The chart of a report: a bar per county (progress), per deadline and county
    (deadlines) or per late case (overdue); the 合计 rows are left out."""
    k = {key: i for i, key in enumerate(report.keys)}
    rows = [r for r in report.rows if "合计" not in (r[0], r[k.get("county", 0)])]
    if report.name == "progress":  # by county: the sub-types of a county summed
        sums: dict[str, list[int]] = {}
        for r in rows:
            pair = sums.setdefault(str(r[k["county"]]), [0, 0])
            pair[0] += r[k["done"]]
            pair[1] += r[k["due"]]
        return [
            _bar(county, _fraction(d, due), f"{_percent(d, due)}（{d}/{due}）")
            for county, (d, due) in sums.items()
        ]
    if report.name == "deadlines":
        out = []
        for r in rows:
            done = r[k["on_time"]] + r[k["late"]]
            out.append(
                _bar(
                    f"{r[k['scope']]} · {r[k['county']]}",
                    _fraction(done, r[k["total"]]),
                    f"{r[k['done_rate']]}（{done}/{r[k['total']]}）",
                )
            )
        return out
    if report.name in _RATIOS:  # a bar per row: done of due, as its own report counts them
        part, whole = _RATIOS[report.name]
        several = "campaign" in k and len({r[k["campaign"]] for r in rows}) > 1
        names = ("campaign", "county") if several else ("county",)
        return [
            _bar(
                " · ".join(str(r[k[key]]) for key in names),
                _fraction(r[k[part]], r[k[whole]]),
                f"{r[k[part]]}/{r[k[whole]]}",
            )
            for r in rows
        ]
    longest = max((r[k["days_overdue"]] for r in rows), default=0)
    return [
        _bar(
            f"#{r[k['case_id']]} {r[k['outfall']]}",
            _fraction(r[k["days_overdue"]], longest),
            f"{r[k['days_overdue']]} 天",
        )
        for r in rows
    ]


def _report(request: Request, signed: Signed, name: str, as_of: str | None) -> Report:
    if name not in compute.REPORTS:
        raise _NoSuchReport(name)
    engine = engine_of(request)
    day = parse_day(as_of, compute.today(engine.clock.now()))
    return compute.run(name, Ledger(engine), day, signed.actor)


def _table(report: Report) -> list[list[dict[str, Any]]]:
    """The rows as cells: text, whether a number (right-aligned), a link."""
    out = []
    for row in report.rows:
        cells = []
        for key, value in zip(report.keys, row, strict=True):
            href = f"/cases/{value}" if key in _CASE_KEYS and value is not None else None
            number = key.endswith("_rate") or (
                isinstance(value, int | float) and key not in _CASE_KEYS
            )
            cells.append({"text": cell_text(value), "num": number, "href": href})
        out.append(cells)
    return out


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """The table as an .xlsx workbook (handlers.ledger.tabular.write_table, as the CLI writes)."""
    with tempfile.TemporaryDirectory(prefix="qingliu-report-") as folder:
        path = Path(folder) / "report.xlsx"
        write_table(path, header, rows)
        return path.read_bytes()


@router.get("/reports")
def reports_home() -> Response:
    return RedirectResponse("/reports/progress", status_code=303)


@router.get("/reports/{name}.xlsx")
def report_xlsx(request: Request, signed: Signed, name: str, as_of: str | None = None) -> Response:
    report = _report(request, signed, name, as_of)
    filename = f"{report.title}_{report.as_of}.xlsx"
    disposition = (
        f'attachment; filename="{report.name}_{report.as_of}.xlsx"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    return Response(
        xlsx_bytes(report.header, report.rows),
        media_type=XLSX,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/reports/{name}")
def report_page(
    request: Request, signed: Signed, name: str, as_of: str | None = None
) -> HTMLResponse:
    report = _report(request, signed, name, as_of)
    chart = bars(report)
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "tabs": TABS,
            "table": _table(report),
            "chart": chart,
            "chart_title": _CHART_TITLES[report.name],
            "chart_height": 26 * len(chart) + 8,
            "bar_width": BAR_WIDTH,
            "xlsx": f"/reports/{report.name}.xlsx?as_of={report.as_of}",
        },
    )
