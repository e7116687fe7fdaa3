"""The guards and actions that ``workflows/*.yaml`` name: one module per workflow, with the same
stem (``workflows/rectification.yaml`` → ``handlers/flows/rectification.py``), each guard and
action a plain function of that name. ``_case`` holds what several flows share."""

from __future__ import annotations

from engine.handlers import Registry
from handlers.flows import (
    campaign_inspection,
    daily_supervision,
    effectiveness_check,
    enforcement,
    escalation,
    key_river_campaign,
    monitoring_plan,
    monitoring_task,
    patrol_notice,
    public_report,
    rectification,
    responsibility,
    retained_list,
    river_patrol,
    screening,
    setup_approval,
    setup_change,
)

__all__ = ["MODULES", "registry"]

# One per workflows/*.yaml, named after it.
MODULES = (
    campaign_inspection,
    daily_supervision,
    effectiveness_check,
    enforcement,
    escalation,
    key_river_campaign,
    monitoring_plan,
    monitoring_task,
    patrol_notice,
    public_report,
    rectification,
    responsibility,
    retained_list,
    river_patrol,
    screening,
    setup_approval,
    setup_change,
)


def registry() -> Registry:
    """Every flow's guards and actions in one registry (a name twice is a ConfigError)."""
    return Registry.merged(*(module.registry for module in MODULES))
