"""The outfall domain, as the engine takes it: ``domain()`` (``engine.domain.Domain``).

    flows/       the guards and actions of workflows/X.yaml, in flows/X.py
    ledger/      the outfall ledger: records, import/export, ID cards, its CLI and API
    sampling/    the 双随机 spot-check draw and `qingliu sample`
    reports/     progress, deadlines and overdue reports and `qingliu report`
    reference/   config/reference/*.yaml: accessors, the check, `qingliu config check`
    demo/        a realistic Liaocheng and `qingliu demo`
    public/      the public face: the QR page, 随手拍, the public column (no sign-in)
    dates.py     local days and month arithmetic; titles.py: titles users read

``config/settings.yaml`` names this package (``handlers: handlers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.domain import Domain
from handlers import flows
from handlers.reference.check import check_reference

__all__ = ["domain"]


def domain() -> Domain:
    return Domain(
        name="handlers",
        registry=flows.registry(),
        check_reference=check_reference,
        cli_commands=cli_commands,
        api_routers=api_routers,
        console_routers=console_routers,
        console_templates=console_templates,
        console_menu=console_menu,
        console_static=console_static,
        body_ceilings=body_ceilings,
        body_checks=body_checks,
    )


def cli_commands() -> list[Any]:
    """The domain's commands (click loads only for the CLI)."""
    from handlers.demo.cli import demo_command
    from handlers.ledger import cli as ledger_cli
    from handlers.reference.cli import config_group
    from handlers.reports.cli import report_command
    from handlers.sampling.cli import sample_group

    return [config_group, sample_group, *ledger_cli.commands(), report_command, demo_command]


def api_routers() -> list[Any]:
    """The domain's routers: /api/v1/outfalls (FastAPI's routes load only for the server)."""
    from handlers.ledger.api import router

    return [router]


def console_routers() -> list[Any]:
    """The domain's console pages: /reports, /escalation, /ledger (loaded for the server)."""
    from handlers.ledger.console import router as ledger_pages
    from handlers.public import public_routers
    from handlers.reports.console import router as report_pages
    from handlers.reports.ladder import router as ladder_pages

    return [report_pages, ladder_pages, ledger_pages, *public_routers()]


def console_templates() -> list[Path]:
    """The folders of the console pages' templates."""
    here = Path(__file__).parent
    return [
        here / "reports" / "templates",
        here / "ledger" / "templates",
        here / "public" / "templates",
    ]


def console_static() -> list[tuple[str, Path]]:
    """The static files of the domain's pages (the public pages' style)."""
    from handlers.public import STATIC

    return [("/static/public", STATIC)]


def body_ceilings() -> list[tuple[Any, int]]:
    """The 随手拍 form takes its photos in its body (handlers/public/snapshot.py)."""
    from handlers.public import body_ceilings as public

    return public()


def body_checks() -> list[tuple[Any, Any]]:
    """The 随手拍 form is refused before its photos are read when it cannot be filed."""
    from handlers.public import body_checks as public

    return public()


def console_menu() -> list[Any]:
    from engine.console.menu import MenuItem

    return [
        MenuItem("统计报表", "/reports", "supervisor", 30),
        MenuItem("排污口台账", "/ledger", "staff", 40),
        MenuItem("督办升级", "/escalation", "supervisor", 35),
    ]
