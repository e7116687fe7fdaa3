"""Checks of the rivers' water quality and tributaries (``rivers.yaml``) and of the river
sections (``river_sections.yaml``): the keys issue 19's flows read, each problem at its key."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["WATER_QUALITY", "check_rivers"]

WATER_QUALITY = ("I", "II", "III", "IV", "V", "劣V")  # GB 3838-2002 classes, and worse than V

Say = Callable[[str, str, str], None]


def _items(reference: Mapping[str, Any], file: str, key: str) -> Iterable[tuple[str, Any]]:
    body = reference.get(file)
    items = body.get(key) if isinstance(body, dict) else None
    return ((f"{key}[{i}]", item) for i, item in enumerate(items or []))


def check_rivers(reference: Mapping[str, Any], counties: set[str], say: Say) -> None:
    """``say(file, key, message)`` for each problem."""
    rivers = {
        item.get("code")
        for _, item in _items(reference, "rivers", "rivers")
        if isinstance(item, dict)
    }
    for where, item in _items(reference, "rivers", "rivers"):
        if not isinstance(item, dict):
            continue
        quality = item.get("water_quality")
        if quality is not None and quality not in WATER_QUALITY:
            say("rivers", f"{where}.water_quality", f"must be one of {', '.join(WATER_QUALITY)}")
        into = item.get("tributary_of")
        if into is not None and (into not in rivers or into == item.get("code")):
            say("rivers", f"{where}.tributary_of", f"unknown river {into!r}")
    if "river_sections" in reference:
        _sections(reference, rivers, counties, say)


def _sections(reference: Mapping[str, Any], rivers: set[Any], counties: set[str], say: Say) -> None:
    seen: set[str] = set()
    for where, item in _items(reference, "river_sections", "sections"):
        if not isinstance(item, dict):
            say("river_sections", where, "must be a mapping")
            continue
        for key in ("code", "name", "river", "county"):
            if not isinstance(item.get(key), str) or not item.get(key):
                say("river_sections", f"{where}.{key}", "is required")
        code = item.get("code")
        if code in seen:
            say("river_sections", f"{where}.code", f"{code!r} appears twice")
        seen.add(str(code))
        if isinstance(item.get("river"), str) and item["river"] not in rivers:
            say("river_sections", f"{where}.river", f"unknown river {item['river']!r}")
        if isinstance(item.get("county"), str) and item["county"] not in counties:
            say("river_sections", f"{where}.county", f"{item['county']!r} is not a county or zone")
