"""Domain handlers: the guard and action functions that workflows/ names.

Each module keeps its own ``Registry``; ``build_registry`` merges them explicitly (no
registration by import side effect). ``config/settings.yaml`` names this module.
"""

from __future__ import annotations

from engine.handlers import Registry
from handlers import approval


def build_registry() -> Registry:
    return Registry.merged(approval.registry)
