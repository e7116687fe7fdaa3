"""The outfall domain, as the engine takes it: ``domain()`` (``engine.domain.Domain``).

    flows/       the guards and actions of workflows/X.yaml, in flows/X.py
    ledger/      the outfall ledger: records, import/export, ID cards, its CLI and API
    sampling/    the 双随机 spot-check draw and `qingliu sample`
    reports/     progress, deadlines and overdue reports and `qingliu report`
    reference/   config/reference/*.yaml: accessors, the check, `qingliu config check`
    demo/        a realistic Liaocheng and `qingliu demo`
    dates.py     local days and month arithmetic; titles.py: titles users read

``config/settings.yaml`` names this package (``handlers: handlers``).
"""

from __future__ import annotations

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
