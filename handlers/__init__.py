"""Domain handlers: the guard and action functions that workflows/ names.

Each module keeps its own ``Registry``; ``build_registry`` merges them explicitly (no
registration by import side effect). ``config/settings.yaml`` names this module.
"""

from __future__ import annotations

from typing import Any

from engine.handlers import Registry
from handlers import approval, config_cli


def build_registry() -> Registry:
    return Registry.merged(approval.registry)


def cli_commands() -> list[Any]:
    """Domain commands added to ``qingliu`` (click commands or groups)."""
    return [config_cli.config_group]
