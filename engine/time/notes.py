"""What arming timers tells the history: the rows a state change adds after its own (pausing or
resuming a deadline, moving a timer) and the timers armed with a provisional due time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Armed", "Note"]


@dataclass(frozen=True)
class Note:
    """A history row without a state change (``deadline_paused``, ``deadline_resumed``,
    ``timer_moved``)."""

    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Armed:
    """What a state change did to timers that the history must show: pause/resume rows, and
    the timers armed with a provisional due time (listed under ``_provisional`` in the
    payload of the change's own history row)."""

    notes: list[Note] = field(default_factory=list)
    provisional: list[dict[str, Any]] = field(default_factory=list)

    def annotate(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        if not self.provisional:
            return dict(payload)
        return {**payload, "_provisional": self.provisional}
