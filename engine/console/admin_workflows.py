"""The administrators' workflow pages: ``/admin/workflows`` (every workflow, its latest
version, where it came from, running cases per version) and ``/admin/workflows/{name}`` (its
diagram, its versions, and a diff between two of them). The editor is ``editor.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from engine.console.web import ConsoleRoute, SignedAdmin, engine_of, render
from engine.console.yaml_diff import side_by_side
from engine.diagram import render as render_diagram
from engine.diagram import workflow_graph
from engine.store.repository import DefinitionRow

__all__ = ["origin_text", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class VersionLine:
    row: DefinitionRow
    running: int
    origin: str


def origin_text(row: DefinitionRow) -> str:
    """Where a version came from, in Chinese (revision 0006: ``file``/``api``, or nothing)."""
    if row.origin == "api":
        return f"管理员在线发布（{row.origin_ref}）" if row.origin_ref else "管理员在线发布"
    if row.origin_ref:
        return f"文件导入（{Path(row.origin_ref).name}）"
    return "文件导入"


@router.get("/admin/workflows", response_class=HTMLResponse)
def workflows(request: Request, signed: SignedAdmin) -> HTMLResponse:
    engine = engine_of(request)
    running = engine.running_by_version(signed.actor)
    items = []
    for row in engine.definitions():
        counts = sorted((v, n) for (w, v), n in running.items() if w == row.name)
        items.append(
            {
                "row": row,
                "origin": origin_text(row),
                "counts": counts,
                "total": sum(n for _v, n in counts),
            }
        )
    return render(request, "admin/workflows.html", {"items": items})


@router.get("/admin/workflows/{name}", response_class=HTMLResponse)
def workflow(
    request: Request,
    name: str,
    signed: SignedAdmin,
    from_: Annotated[Version, Query(alias="from")] = None,
    to: Version = None,
    published: Version = None,
    unchanged: bool = False,
) -> HTMLResponse:
    engine = engine_of(request)
    versions = engine.workflow_versions(name)
    latest, definition = engine.definition(name)
    running = engine.running_by_version(signed.actor, name)
    lines = [VersionLine(r, running.get((name, r.version), 0), origin_text(r)) for r in versions]
    by_number = {r.version: r for r in versions}
    new = by_number.get(to or latest.version, latest)
    old = by_number.get(from_ or max(new.version - 1, 1), versions[0])
    notice = None
    if published is not None:
        notice = f"已发布第 {published} 版"
    elif unchanged:
        notice = f"内容未变化：第 {latest.version} 版仍是最新版本"
    svg = render_diagram(workflow_graph(definition, latest.version), "svg")
    svg = svg.replace(_SVG_NS, "", 1)  # inline in HTML: no namespace URL on the page
    context = {
        "name": name,
        "latest": latest,
        "lines": lines,
        "total": sum(line.running for line in lines),
        "diagram": Markup(svg),  # noqa: S704 - the engine's own SVG (engine/diagram/svg.py)
        "old": old,
        "new": new,
        "diff": side_by_side(old.source, new.source) if old.version != new.version else None,
        "notice": notice,
    }
    return render(request, "admin/workflow.html", context)
