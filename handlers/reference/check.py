"""Validation of ``config/reference/*.yaml``: each problem names the file and the key path,
e.g. ``outfall_types.yaml: classes[0].sub_types[2].departments[0]: unknown department 'x'``;
``located`` turns them into ``path:line:col: key: message`` for the files on disk (what
``qingliu config check`` prints)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from engine.definition.loader import load_yaml
from handlers.reference import data as ref
from handlers.reference.check_monitoring import check_monitoring
from handlers.reference.check_patrols import check_patrols
from handlers.reference.check_rivers import check_rivers

__all__ = ["REQUIRED_FILES", "Checker", "check_reference", "locate"]

REQUIRED_FILES = (
    "jurisdictions",
    "departments",
    "roles",
    "outfall_types",
    "rivers",
    "deadlines",
    "sampling",
    "violations",
    "neighbours",
)
LEVELS = ("province", "city", "county", "zone")
DEPARTMENT_LEVELS = ("national", "province", "city", "county")
ROLE_LEVELS = ("national", "province", "city", "county", "party")
PERIOD_UNITS = ("months", "days")
SUB_TYPE_KEYS = ("code", "no", "name", "departments", "approval_required", "spot_check_weight")


class Checker:
    def __init__(self, reference: Mapping[str, Any]) -> None:
        self.reference = reference
        self.problems: list[str] = []

    def run(self) -> list[str]:
        missing = [f for f in REQUIRED_FILES if f not in self.reference]
        for name in missing:
            self.problems.append(f"{name}.yaml: missing (config/reference/{name}.yaml)")
        if missing:
            return self.problems
        self._jurisdictions()
        roles = self._codes("roles", "roles", ("code", "title", "level"), ROLE_LEVELS)
        departments = self._departments(roles)
        self._outfall_types(departments)
        basins = self._codes("rivers", "basins", ("code", "name"), None)
        self._basin_bureaus()
        self._rivers(basins)
        self._deadlines(basins)
        self._sampling()
        self._violations(roles)
        self._neighbours(departments)
        check_rivers(self.reference, set(ref.county_codes(self.reference)), self._say)
        check_monitoring(self.reference, self._say)
        check_patrols(self.reference, self._say)
        return list(dict.fromkeys(self.problems))  # a list read twice is reported once

    # -- helpers ------------------------------------------------------------------------------

    def _say(self, file: str, key: str, message: str) -> None:
        self.problems.append(f"{file}.yaml: {key}: {message}")

    def _items(self, file: str, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
        body = self.reference.get(file)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            self._say(file, key, "must be a non-empty list")
            return
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield f"{key}[{index}]", item
            else:
                self._say(file, f"{key}[{index}]", "must be a mapping")

    def _codes(
        self, file: str, key: str, required: tuple[str, ...], levels: tuple[str, ...] | None
    ) -> set[str]:
        codes: set[str] = set()
        for where, item in self._items(file, key):
            for field in required:
                if item.get(field) in (None, ""):
                    self._say(file, f"{where}.{field}", "is required")
            code = item.get("code")
            if code in codes:
                self._say(file, f"{where}.code", f"duplicate code {code!r}")
            if isinstance(code, str):
                codes.add(code)
            if levels is not None and item.get("level") not in levels:
                self._say(file, f"{where}.level", f"must be one of {', '.join(levels)}")
        return codes

    # -- files --------------------------------------------------------------------------------

    def _jurisdictions(self) -> None:
        file = "jurisdictions"
        codes = self._codes(file, file, ("code", "name", "level"), LEVELS)
        levels = {i.get("code"): i.get("level") for _, i in self._items(file, file)}
        for where, item in self._items(file, file):
            parent = item.get("parent")
            if parent is None:
                if item.get("level") != "province":
                    self._say(file, f"{where}.parent", "only the province may have no parent")
            elif parent not in codes:
                self._say(file, f"{where}.parent", f"unknown jurisdiction {parent!r}")
            elif LEVELS.index(str(levels[parent])) >= LEVELS.index(str(item.get("level"))):
                self._say(file, f"{where}.parent", f"{parent!r} is not above {item.get('code')!r}")
        self._division_codes()

    def _division_codes(self) -> None:
        """行政区划代码: six digits, unique, within the parent's (a county 3715xx under the city
        371500, a city 37xx00 under the province 370000); required for county-level units,
        whose outfall codes begin with it."""
        file = "jurisdictions"
        units = {i.get("code"): i for _, i in self._items(file, file)}
        seen: set[str] = set()
        for where, item in self._items(file, file):
            value = item.get("division_code")
            key = f"{where}.division_code"
            if value is None:
                if item.get("level") in ("county", "zone"):
                    self._say(file, key, "is required for a county-level unit")
                continue
            text = str(value)
            if len(text) != 6 or not text.isdigit():
                self._say(file, key, f"{text!r} is not a 6-digit division code")
                continue
            if text in seen:
                self._say(file, key, f"duplicate division code {text!r}")
            seen.add(text)
            parent = units.get(item.get("parent"))
            above = str((parent or {}).get("division_code") or "")
            if len(above) == 6 and above.isdigit() and not _within(text, above):
                self._say(file, key, f"{text!r} is not within {parent['code']} ({above})")

    def _departments(self, roles: set[str]) -> set[str]:
        file = "departments"
        codes = self._codes(file, file, ("code", "name", "level"), DEPARTMENT_LEVELS)
        for where, item in self._items(file, file):
            held = item.get("roles")
            if not isinstance(held, list) or not held:
                self._say(file, f"{where}.roles", "must be a non-empty list of role codes")
                continue
            for index, role in enumerate(held):
                if role not in roles:
                    self._say(file, f"{where}.roles[{index}]", f"unknown role {role!r}")
        return codes

    def _outfall_types(self, departments: set[str]) -> None:
        file = "outfall_types"
        self._codes(file, "classes", ("code", "name"), None)
        seen_codes: set[str] = set()
        seen_numbers: set[int] = set()
        for where, item in self._items(file, "classes"):
            subs = item.get("sub_types")
            if not isinstance(subs, list) or not subs:
                self._say(file, f"{where}.sub_types", "must be a non-empty list")
                continue
            for index, sub in enumerate(subs):
                self._sub_type(f"{where}.sub_types[{index}]", sub, departments, seen_codes)
                if isinstance(sub, dict) and isinstance(sub.get("no"), int):
                    if sub["no"] in seen_numbers:
                        self._say(file, f"{where}.sub_types[{index}].no", "duplicate number")
                    seen_numbers.add(sub["no"])

    def _sub_type(self, where: str, sub: Any, departments: set[str], seen: set[str]) -> None:
        file = "outfall_types"
        if not isinstance(sub, dict):
            self._say(file, where, "must be a mapping")
            return
        for field in SUB_TYPE_KEYS if ".children[" not in where else ("code", "name"):
            if field not in sub:
                self._say(file, f"{where}.{field}", "is required")
        code = sub.get("code")
        if code in seen:
            self._say(file, f"{where}.code", f"duplicate sub-type code {code!r}")
        seen.add(str(code))
        self._sub_type_values(where, sub, departments)
        children = sub.get("children") or []
        if not isinstance(children, list):
            self._say(file, f"{where}.children", "must be a list")
            return
        for index, child in enumerate(children):
            self._sub_type(f"{where}.children[{index}]", child, departments, seen)

    def _sub_type_values(self, where: str, sub: dict[str, Any], departments: set[str]) -> None:
        file = "outfall_types"
        for index, dept in enumerate(sub.get("departments") or []):
            if dept not in departments:
                self._say(file, f"{where}.departments[{index}]", f"unknown department {dept!r}")
        if "approval_required" in sub and not isinstance(sub["approval_required"], bool):
            self._say(file, f"{where}.approval_required", "must be true or false")
        weight = sub.get("spot_check_weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            self._say(file, f"{where}.spot_check_weight", "must be a positive number")

    def _basin_bureaus(self) -> None:
        """A basin's ``bureau`` is a department holding the basin_bureau role."""
        held = {
            str(d.get("code")): d.get("roles") or []
            for _, d in self._items("departments", "departments")
        }
        for where, item in self._items("rivers", "basins"):
            bureau = item.get("bureau")
            if bureau is None:
                continue
            if bureau not in held:
                self._say("rivers", f"{where}.bureau", f"unknown department {bureau!r}")
            elif "basin_bureau" not in held[bureau]:
                self._say(
                    "rivers",
                    f"{where}.bureau",
                    f"department {bureau!r} does not hold the basin_bureau role",
                )

    def _rivers(self, basins: set[str]) -> None:
        self._codes("rivers", "rivers", ("code", "name", "basin"), None)
        bureaus = {b.get("code"): b.get("bureau") for _, b in self._items("rivers", "basins")}
        for where, item in self._items("rivers", "rivers"):
            if item.get("basin") not in basins:
                self._say("rivers", f"{where}.basin", f"unknown basin {item.get('basin')!r}")
            if not isinstance(item.get("key", False), bool):
                self._say("rivers", f"{where}.key", "must be true or false")
            scope = item.get("basin_scope", False)
            if not isinstance(scope, bool):
                self._say("rivers", f"{where}.basin_scope", "must be true or false")
            elif scope and item.get("basin") in basins and not bureaus.get(item.get("basin")):
                self._say(
                    "rivers",
                    f"{where}.basin_scope",
                    f"basin {item.get('basin')!r} names no bureau to approve it",
                )

    def _date(self, key: str, value: Any) -> None:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            self._say("deadlines", key, f"{value!r} is not a date (YYYY-MM-DD)")

    def _deadlines(self, basins: set[str]) -> None:
        body = self.reference.get("deadlines")
        body = body if isinstance(body, dict) else {}
        named = body.get("deadlines")
        if not isinstance(named, dict) or not named:
            self._say("deadlines", "deadlines", "must be a mapping of name to date")
        else:
            for name, value in named.items():
                self._date(f"deadlines.{name}", value)
        self._new_outfall_period(body.get("new_outfall_period"))
        by_basin = body.get("rectification_deadline_by_basin")
        if not isinstance(by_basin, dict) or "default" not in by_basin:
            self._say("deadlines", "rectification_deadline_by_basin", "must have a default")
            return
        for basin, value in by_basin.items():
            key = f"rectification_deadline_by_basin.{basin}"
            if basin != "default" and basin not in basins:
                self._say("deadlines", key, f"unknown basin {basin!r}")
            self._date(key, value)

    def _new_outfall_period(self, period: Any) -> None:
        """新增排污口动态清零 (三(一)): ``{months: N}`` and/or ``{days: N}``, N a positive whole
        number."""
        key = "new_outfall_period"
        if not isinstance(period, dict) or not period:
            self._say("deadlines", key, "must be a mapping such as {months: 6} (months, days)")
            return
        for unit, value in period.items():
            if unit not in PERIOD_UNITS:
                self._say("deadlines", f"{key}.{unit}", f"unknown unit {unit!r} (months, days)")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self._say("deadlines", f"{key}.{unit}", "must be a positive whole number")

    def _sampling(self) -> None:
        body = self.reference.get("sampling")
        spot = body.get("spot_check") if isinstance(body, dict) else None
        if not isinstance(spot, dict):
            self._say("sampling", "spot_check", "must be a mapping")
            return
        ratio = spot.get("city_ratio")
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            self._say("sampling", "spot_check.city_ratio", "must be a number in (0, 1]")
        inspectors = spot.get("min_inspectors")
        if isinstance(inspectors, bool) or not isinstance(inspectors, int) or inspectors < 2:
            self._say("sampling", "spot_check.min_inspectors", "must be an integer of at least 2")
        known = {
            str(s.get("code"))
            for _, c in self._items("outfall_types", "classes")
            for s in c.get("sub_types") or []
            if isinstance(s, dict)
        }
        for index, code in enumerate(spot.get("focus_sub_types") or []):
            if code not in known:
                self._say("sampling", f"spot_check.focus_sub_types[{index}]", f"unknown {code!r}")

    def _violations(self, roles: set[str]) -> None:
        """violation type → enforcing authority (三(四)3, 三(四)5), each with its legal basis."""
        file = "violations"
        authorities = self._codes(file, "authorities", ("code", "name"), None)
        for where, item in self._items(file, "authorities"):
            held = item.get("roles")
            if not isinstance(held, list) or not held:
                self._say(file, f"{where}.roles", "must be a non-empty list of role codes")
                continue
            for index, role in enumerate(held):
                if role not in roles:
                    self._say(file, f"{where}.roles[{index}]", f"unknown role {role!r}")
        self._codes(file, "violations", ("code", "name", "authority", "basis"), None)
        for where, item in self._items(file, "violations"):
            authority = item.get("authority")
            if authority not in (None, "") and authority not in authorities:
                self._say(file, f"{where}.authority", f"unknown authority {authority!r}")

    def _neighbours(self, departments: set[str]) -> None:
        """Neighbouring provinces and their common superior with Shandong (三(二))."""
        file = "neighbours"
        superiors = self._codes(file, "superiors", ("code", "name", "level", "role"), None)
        roles = {str(r.get("code")) for _, r in self._items("roles", "roles")}
        for where, item in self._items(file, "superiors"):
            if item.get("role") not in (None, "") and item.get("role") not in roles:
                self._say(file, f"{where}.role", f"unknown role {item.get('role')!r}")
            if item.get("level") != "national":
                self._say(file, f"{where}.level", "must be national (above the province)")
        places = {str(j.get("code")) for _, j in self._items("jurisdictions", "jurisdictions")}
        self._codes(file, "neighbours", ("code", "name", "common_superior"), None)
        for where, item in self._items(file, "neighbours"):
            superior = item.get("common_superior")
            if superior not in (None, "") and superior not in superiors:
                self._say(file, f"{where}.common_superior", f"unknown superior {superior!r}")
            if item.get("code") in places:
                self._say(file, f"{where}.code", "is a jurisdiction of jurisdictions.yaml")
            for index, unit in enumerate(item.get("units") or []):
                if not isinstance(unit, dict) or not unit.get("code") or not unit.get("name"):
                    self._say(file, f"{where}.units[{index}]", "needs a code and a name")


def _within(code: str, above: str) -> bool:
    """``code`` lies inside ``above``: it shares the non-zero prefix of ``above`` (370000 →
    37, 371500 → 3715)."""
    prefix = above.rstrip("0")
    prefix = above[: len(prefix) + len(prefix) % 2]  # whole levels: 2, 4 or 6 digits
    return code != above and code.startswith(prefix)


def check_reference(reference: Mapping[str, Any]) -> list[str]:
    """Every problem in the reference data, one sentence each naming the file and key."""
    return Checker(reference).run()


_PROBLEM = re.compile(r"^(?P<file>[\w-]+\.yaml): (?P<key>[^ :]+): (?P<message>.*)$", re.S)
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def locate(folder: Path, problem: str) -> str:
    """``problem`` (``file.yaml: key.path[0]: message``) as ``path:line:col: key: message``,
    the line and column of that key (or of its nearest existing parent) in ``folder/file``;
    unchanged when the file or the key cannot be read."""
    found = _PROBLEM.match(problem)
    path = folder / found["file"] if found else None
    if found is None or path is None or not path.is_file():
        return problem
    doc, errors = load_yaml(path.read_text(encoding="utf-8"), str(path))
    if errors:
        return problem
    parts = tuple(int(index) if index else name for name, index in _PART.findall(found["key"]))
    line, column = doc.mark(parts, at_key=True)
    return f"{path}:{line}:{column}: {found['key']}: {found['message']}"
