"""The table every report returns (``Report``) and the cut-off of a report's day (``cutoff``):
apart from ``compute`` so that reports in modules of their own (``monitoring``) share them
without an import cycle (``compute.REPORTS`` lists them all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from handlers.dates import CST

__all__ = ["Report", "cutoff"]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    as_of: str
    keys: list[str]
    header: list[str]
    rows: list[list[Any]]
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "as_of": self.as_of,
            **self.notes,
            "rows": [dict(zip(self.keys, row, strict=True)) for row in self.rows],
        }


def cutoff(as_of: date) -> datetime:
    """The end of ``as_of`` in China Standard Time, as an aware UTC datetime."""
    return datetime.combine(as_of + timedelta(days=1), time(), CST).astimezone(UTC)
