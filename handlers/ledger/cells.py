"""Ledger files' columns and cells (docs/ledger.md): the columns with their Chinese headers
and English aliases (``COLUMNS``), the labels shown for codes (``LABELS``), how a cell is read
into a record value (``CellReader``: codes, names or annex numbers) and how a record value is
written (``CellWriter``: Chinese names and labels, 是/否). Import (``importer``) and export
(``exporter``) share them; ``io`` is their front door."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from handlers.ledger.fields import FIELD_LABELS, format_limits, parse_limits
from handlers.ledger.record import (
    FIELDS,
    RECTIFICATION_MODES,
    RECTIFICATION_STATUSES,
    SETUP_BASES,
    STATUSES,
)
from handlers.reference import data as ref

__all__ = ["COLUMNS", "FIELD_INDEX", "HEADER_OF", "LABELS", "CellReader", "CellWriter", "Column"]


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("code", "编码", ("排污口编码", "国家编码")),
    Column("local_code", "地方编码", ("本地编码",)),
    Column("name", "名称", ("排污口名称",)),
    Column("sub_type", "排污口类型", ("类型", "二级类型")),
    Column("county", "所在县区", ("县区", "县（市、区）")),
    Column("address", "地址", ("详细地址",)),
    Column("longitude", "经度", ()),
    Column("latitude", "纬度", ()),
    Column("river", "受纳水体", ("河流", "受纳河流")),
    Column("basin", "流域", ()),
    Column("entry_mode", "入河方式", ()),
    Column("responsible_party", "责任主体", ("责任单位",)),
    Column("responsible_fallback", "兜底责任", ("政府兜底",)),
    Column("status", "状态", ()),
    Column("rectification_status", "整治状态", ()),
    Column("setup_basis", "设置依据", ()),
    Column("setup_decision", "批准文号", ("审批文号", "登记编号")),
    Column("found_at", "发现日期", ("排查日期",)),
    Column("rectification_mode", "整治方式", ()),
    Column("merged_into", "合并至", ("合并至排污口",)),
    Column("water_function_zone", "水功能区", ("所在水功能区",)),
    Column("zone_target", "水质目标", ("水功能区水质目标",)),
    Column("discharge_regime", "排放方式", ("排放规律",)),
    Column("permit_number", "排污许可证编号", ("排污许可证号", "许可证编号")),
    Column("responsible_credit_code", "统一社会信用代码", ("信用代码",)),
    Column("supervising_department", "监管部门", ("行业主管部门",)),
    Column("standardisation_status", "规范化建设", ("规范化建设状态",)),
    Column("limits", "排放限值", ("排放限值(mg/L)",)),
    Column("cancelled_on", "注销日期", ()),
    Column("cancellation_decision", "注销文号", ("注销决定文号",)),
)
assert tuple(c.field for c in COLUMNS) == FIELDS
HEADER_OF = {c.field: c.header for c in COLUMNS}
FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}

LABELS: dict[str, dict[str, str]] = {
    "status": dict(zip(STATUSES, ("在用", "已取缔", "已合并", "已注销"), strict=True)),
    "rectification_status": dict(
        zip(RECTIFICATION_STATUSES, ("待整治", "整治中", "已完成", "无需整治"), strict=True)
    ),
    "setup_basis": dict(zip(SETUP_BASES, ("审批", "登记", "历史遗留"), strict=True)),
    "rectification_mode": dict(
        zip(RECTIFICATION_MODES, ("依法取缔", "清理合并", "规范整治"), strict=True)
    ),
    **FIELD_LABELS,
}
TRUE = {"是", "true", "yes", "y", "1", "√"}
FALSE = {"否", "false", "no", "n", "0", ""}


# -- reading cells ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel turns long digit codes into numbers
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{value!r} is not 是/否")


def _date(value: Any) -> str:
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
            except ValueError:
                pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _by_label(name: str) -> Callable[[Any], str]:
    codes = {label: code for code, label in LABELS[name].items()}

    def parse(value: Any) -> str:
        text = _text(value)
        return codes.get(text, text)

    return parse


class CellReader:
    """Turns cell values into record values: codes, names or annex numbers accepted."""

    def __init__(self, reference: Mapping[str, Any]) -> None:
        self.lookup: dict[str, dict[str, str]] = {
            "sub_type": _index(ref.sub_types(reference), extra="no"),
            "county": _index(ref.jurisdictions(reference)),
            "river": _index(_items(reference, "rivers", "rivers")),
            "basin": _index(_items(reference, "rivers", "basins")),
            "supervising_department": _index(_items(reference, "departments", "departments")),
        }
        self.parsers: dict[str, Callable[[Any], Any]] = {
            "longitude": _number,
            "latitude": _number,
            "responsible_fallback": _boolean,
            "found_at": _date,
            "cancelled_on": _date,
            "limits": parse_limits,
            **{name: _by_label(name) for name in LABELS},
        }

    def value(self, name: str, raw: Any) -> Any:
        if name in self.lookup:
            text = _text(raw)
            return self.lookup[name].get(text, text)
        parser: Callable[[Any], Any] = self.parsers.get(name, _text)
        return parser(raw)


def _items(reference: Mapping[str, Any], file: str, key: str) -> list[dict[str, Any]]:
    body = reference.get(file) or {}
    return [i for i in body.get(key) or [] if isinstance(i, dict)]


def _index(items: Any, extra: str | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        code = str(item.get("code"))
        out[str(item.get("name"))] = code
        if extra and item.get(extra) is not None:
            out[str(item[extra])] = code
        out[code] = code
    return out


class CellWriter:
    """Record values as shown in files: Chinese names and labels, 是/否."""

    def __init__(self, reference: Mapping[str, Any]) -> None:
        self.names: dict[str, dict[str, str]] = {
            "sub_type": {s["code"]: s["name"] for s in ref.sub_types(reference)},
            "county": {j["code"]: j["name"] for j in ref.jurisdictions(reference)},
            "river": {r["code"]: r["name"] for r in _items(reference, "rivers", "rivers")},
            "basin": {b["code"]: b["name"] for b in _items(reference, "rivers", "basins")},
            "supervising_department": {
                d["code"]: d["name"] for d in _items(reference, "departments", "departments")
            },
            **LABELS,
        }

    def row(self, record: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for name in FIELDS:
            value = record.get(name)
            if name in self.names and isinstance(value, str):
                value = self.names[name].get(value, value)
            elif isinstance(value, bool):
                value = "是" if value else "否"
            elif isinstance(value, dict):
                value = format_limits(value)
            out.append(value)
        return out
