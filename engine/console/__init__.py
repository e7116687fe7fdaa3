"""The web console: server-rendered pages in Chinese on the API's own app, for agency staff
(待办, case pages), supervisors (boards, reports, the ledger) and administrators (workflows,
users). Every asset is served by the app itself (``static/``, vendored with its licence, or
from a registry package); nothing comes from another host.

    accounts.py  users, passwords (argon2id), lock-out, sessions
    web.py       the signed-in user, form tokens (CSRF), templates, error pages
    labels.py    role, jurisdiction and history names in Chinese, local time
    menu.py      the menu each role sees
    signin.py    /login, /logout, /
    admin_users.py  /admin/users: users and API tokens, for administrators
    docs.py      /docs (Swagger UI) and /redoc, offline
    admin_workflows.py  /admin/workflows: workflows, versions, diagrams, diffs
    editor.py    /admin/workflows/{name}/edit: the YAML editor (check, scenarios, publish)
    forms.py     forms generated from payload_schema, and the form back to the payload
    case_view.py what the case page shows (data, diagram, timers, history, the offered forms)
    case_page.py /cases/{id} and /cases/{id}/fire/{trigger}
    inbox.py     /inbox (待办) and /cases (the case list with filters)
    board.py     /board (督办看板): counts by jurisdiction × workflow

The pages call the engine facade (``engine.runtime.Engine``) as the API routes do, with the
signed-in user as the actor: the same read scope and the same write rules, from the same code.
The domain adds pages with ``Domain.console_routers`` and templates with
``Domain.console_templates`` (``engine.domain``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from engine.console import (
    admin_users,
    admin_workflows,
    board,
    case_files,
    case_page,
    docs,
    editor,
    inbox,
    menu,
    signin,
)
from engine.console.accounts import Accounts
from engine.console.labels import Labels
from engine.console.web import templates_for
from engine.domain import Domain
from engine.runtime import Engine

__all__ = ["mount_console"]

STATIC = Path(__file__).parent / "static"


def mount_console(app: FastAPI, engine: Engine, domain: Domain | None = None) -> None:
    """Add the console's pages, static files and offline docs to ``app``. The accounts
    (``app.state.accounts``) time sessions with the wall clock; a test may replace them with
    ``Accounts(engine, wall=FakeClock(...))``."""
    app.state.accounts = Accounts(engine)
    app.state.labels = Labels.from_reference(engine.reference, engine.planner.calendar.tz)
    app.state.templates = templates_for(domain.console_templates() if domain else ())
    app.state.console_menu = menu.Menu(engine, domain.console_menu() if domain else ())
    for prefix, directory in domain.console_static() if domain is not None else ():
        app.mount(prefix, StaticFiles(directory=directory))  # before /static: more specific
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs.mount(app)
    app.include_router(signin.router)
    app.include_router(editor.router)  # first: /admin/workflows/new is not a workflow's page
    app.include_router(admin_workflows.router)
    app.include_router(admin_users.router)
    app.include_router(case_page.router)
    app.include_router(case_files.router)
    app.include_router(inbox.router)
    app.include_router(board.router)
    for router in domain.console_routers() if domain is not None else ():
        app.include_router(router)
