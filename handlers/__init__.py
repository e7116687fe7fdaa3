"""Domain handlers: the guard and action functions that workflows/ names.

Each module keeps its own ``Registry``; ``build_registry`` merges them explicitly (no
registration by import side effect). ``config/settings.yaml`` names this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def check_reference(reference: Mapping[str, Any]) -> list[str]:
    """Problems in config/reference/*.yaml; the engine refuses to start while there are any."""
    return reference_data.check_reference(reference)


def cli_commands() -> list[Any]:
    """Domain commands added to ``qingliu`` (click commands or groups)."""
    from handlers import ledger_cli  # click commands load only for the CLI

    return [config_cli.config_group, sampling_cli.sample_group, *ledger_cli.commands()]


def api_routers() -> list[Any]:
    """FastAPI routers the HTTP API includes (the ledger's /api/v1/outfalls)."""
    from handlers import api  # FastAPI loads only for the server

    return api.routers()
