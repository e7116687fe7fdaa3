"""The outfall domain, as the engine takes it: ``domain()`` (``engine.domain.Domain``).

Each flow module keeps its own ``Registry``; ``build_registry`` merges them explicitly (no
registration by import side effect). ``config/settings.yaml`` names this package.
"""

from __future__ import annotations

from typing import Any

from engine.domain import Domain
from engine.handlers import Registry
from handlers import (
    approval,
    config_cli,
    enforcement,
    escalation,
    public_report,
    rectification,
    responsibility,
    retained_list,
    sampling,
    sampling_cli,
)
from handlers import reference as reference_data


def build_registry() -> Registry:
    return Registry.merged(
        approval.registry,
        enforcement.registry,
        escalation.registry,
        public_report.registry,
        rectification.registry,
        responsibility.registry,
        retained_list.registry,
        sampling.registry,
    )


def domain() -> Domain:
    return Domain(
        name="handlers",
        registry=build_registry(),
        check_reference=reference_data.check_reference,
        cli_commands=cli_commands,
        api_routers=api_routers,
    )


def cli_commands() -> list[Any]:
    """Domain commands added to ``qingliu`` (click commands or groups)."""
    from handlers import ledger_cli  # click commands load only for the CLI

    return [config_cli.config_group, sampling_cli.sample_group, *ledger_cli.commands()]


def api_routers() -> list[Any]:
    """FastAPI routers the HTTP API includes (the ledger's /api/v1/outfalls)."""
    from handlers import api  # FastAPI loads only for the server

    return api.routers()
