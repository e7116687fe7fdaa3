"""The administrators' YAML editor: ``/admin/workflows/{name}/edit`` (the latest source) and
``/admin/workflows/new``.

* ``POST .../check`` (the editor's script, as the admin types): the text is checked by the
  same code as ``POST /api/v1/workflows/validate`` (``Catalog.check_text``) and the answer has
  its shape, ``{valid, errors: [{path, line, column, message}, ...]}``.
* ``POST .../simulate`` (htmx): the workflow's scenarios run against the text (``scenarios.py``).
* ``POST .../publish`` (a form): the same check, then ``Engine.publish``; with problems nothing
  is published and the editor comes back with them; otherwise the workflow's page says
  "已发布第 N 版" (or that the text is the latest version already).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.console.scenarios import run_scenarios, scenario_files
from engine.console.web import ConsoleRoute, SignedAdmin, engine_of, render
from engine.errors import DefinitionError, Problem, definition_errors
from engine.runtime import Engine

__all__ = ["NEW_TEMPLATE", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

SOURCE = "<editor>"
Text = Annotated[str, Form(max_length=2_000_000)]

# What a new workflow starts from (docs/definition-language.md).
NEW_TEMPLATE = """\
name: new_workflow
title: 新流程
description: >-
  流程说明（docs/definition-language.md）。
jurisdiction_field: county
roles: [county_eeb, eeb_city]

data_schema:
  type: object
  required: [county]
  properties:
    county: {type: string, minLength: 1}

initial: drafting
states:
  drafting: {title: 县级生态环境部门办理中}
  submitted: {title: 已报市生态环境局}
  done:
    title: 已办结
    final: true

transitions:
  - trigger: submit
    title: 报市生态环境局
    source: drafting
    dest: submitted
    roles: [county_eeb]
  - trigger: close
    title: 办结
    source: submitted
    dest: done
    roles: [eeb_city]
"""


def problems_in(engine: Engine, text: str, name: str | None) -> list[Problem]:
    """Every problem of ``text`` (a text over the YAML limits: that limit's problem)."""
    try:
        return engine.catalog.check_text(text, SOURCE, name)
    except DefinitionError as exc:
        return exc.problems


def _errors(problems: list[Problem]) -> list[dict[str, Any]]:
    return [
        {k: e[k] for k in ("path", "line", "column", "message")}
        for e in definition_errors(problems)
    ]


def _editor(
    request: Request,
    name: str | None,
    text: str,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    engine = engine_of(request)
    base = f"/admin/workflows/{name}" if name else "/admin/workflows"
    title = engine.definition(name)[0].title if name else "新建流程"
    has_scenarios = bool(name and scenario_files(name, engine.workflow_versions(name)))
    context = {
        "name": name,
        "title": title,
        "text": text,
        "base": base,
        "errors": _errors(problems or []),
        "has_scenarios": has_scenarios,
    }
    return render(request, "admin/editor.html", context, status=status)


@router.get("/admin/workflows/new", response_class=HTMLResponse)
def new(request: Request, _signed: SignedAdmin) -> HTMLResponse:
    return _editor(request, None, NEW_TEMPLATE)


@router.get("/admin/workflows/{name}/edit", response_class=HTMLResponse)
def edit(request: Request, name: str, _signed: SignedAdmin) -> HTMLResponse:
    row, _definition = engine_of(request).definition(name)
    return _editor(request, name, row.source)


async def _body_text(request: Request) -> str | Problem:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(SOURCE, 1, 1, f"the text is not UTF-8: {exc.reason}")


def _checked(engine: Engine, text: str | Problem, name: str | None) -> JSONResponse:
    if name is not None:
        engine.workflow_versions(name)  # 404 for a workflow that does not exist
    if isinstance(text, Problem):
        problems = [text]
    elif not text.strip():
        problems = [Problem(SOURCE, 1, 1, "a definition is required")]
    else:
        problems = problems_in(engine, text, name)
    return JSONResponse({"valid": not problems, "errors": _errors(problems)})


@router.post("/admin/workflows/check")
async def check_new(request: Request, _signed: SignedAdmin) -> JSONResponse:
    text = await _body_text(request)
    return await run_in_threadpool(_checked, engine_of(request), text, None)


@router.post("/admin/workflows/{name}/check")
async def check(request: Request, name: str, _signed: SignedAdmin) -> JSONResponse:
    text = await _body_text(request)
    return await run_in_threadpool(_checked, engine_of(request), text, name)


@router.post("/admin/workflows/{name}/simulate", response_class=HTMLResponse)
def simulate(request: Request, name: str, _signed: SignedAdmin, text: Text) -> HTMLResponse:
    engine = engine_of(request)
    files = scenario_files(name, engine.workflow_versions(name))
    problems = problems_in(engine, text, name)
    runs = [] if problems else run_scenarios(engine, name, text, files)
    context = {"runs": runs, "files": files, "errors": _errors(problems)}
    return render(request, "admin/_scenarios.html", context)


def _publish(request: Request, signed: SignedAdmin, name: str | None, text: str) -> Response:
    engine = engine_of(request)
    problems = problems_in(engine, text, name)
    if not text.strip():
        problems = [Problem(SOURCE, 1, 1, "a definition is required")]
    if problems:
        return _editor(request, name, text, problems, status=422)
    published = engine.publish(text, source=f"console {signed.user.username}", by=signed.actor)
    query = f"published={published.version}" if published.created else "unchanged=true"
    return RedirectResponse(f"/admin/workflows/{published.name}?{query}", status_code=303)


@router.post("/admin/workflows/publish")
def publish_new(request: Request, signed: SignedAdmin, text: Text) -> Response:
    return _publish(request, signed, None, text)


@router.post("/admin/workflows/{name}/publish")
def publish(request: Request, name: str, signed: SignedAdmin, text: Text) -> Response:
    engine_of(request).workflow_versions(name)
    return _publish(request, signed, name, text)
