"""The demo's drivers beyond the outfalls' own lifecycle, one per concern: each is a
``plan(story, planned)`` that schedules its steps on the story (``handlers.demo.city._Story``)
and fires them through the engine facade as the officials would. ``load_demo`` runs them in
this order, after the outfalls are planned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from handlers.demo import campaigns, monitoring, patrols, setup_changes, supervision

__all__ = ["PLANS"]

PLANS: tuple[Callable[[Any, Sequence[Any]], None], ...] = (
    supervision.plan,
    setup_changes.plan,
    monitoring.plan,
    patrols.plan,  # river patrols and daily supervision
    campaigns.plan,  # key-river campaigns and screening rounds
)
