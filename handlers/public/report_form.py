"""The 随手拍 form's fields: the choices it offers, a prefill from an outfall of the ledger, and
the form's values turned into a ``public_report`` case's data, with every problem in Chinese at
its field (``Problems``: field name -> message).

The checks here say in Chinese what the workflow's schema (workflows/public_report.yaml) would
refuse, so a person reads a sentence and not a JSON path; whatever the schema still refuses is
mapped back to the field its path names (``from_invalid``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from engine.errors import FieldError, NotFound
from engine.runtime import Engine
from handlers.ledger.service import Ledger
from handlers.public.web import SITE
from handlers.reference import data as ref

__all__ = [
    "AREAS",
    "TEXT_FIELDS",
    "Problems",
    "choices",
    "from_invalid",
    "outfall_prefill",
    "report_data",
]

Problems = dict[str, str]

AREAS = {"urban": "城区或县城", "town": "建制镇", "rural": "农村"}
TEXT_FIELDS = (
    "county",
    "area",
    "sub_type",
    "longitude",
    "latitude",
    "address",
    "description",
    "name",
    "phone",
    "anonymous",
    "outfall",
)
MAX_TEXT = {"address": 300, "description": 2000, "name": 50, "phone": 20}
_PHONE = re.compile(r"^[0-9+ -]{5,20}$")
# The form's field a schema path names ($.reporter.phone -> phone).
_FIELD_OF_PATH = {"reporter": "name", "reporter.name": "name", "reporter.phone": "phone"}
_LABELS = {
    "county": "所在区县",
    "area": "地区类型",
    "sub_type": "排污口类型",
    "longitude": "经度",
    "latitude": "纬度",
    "address": "地点描述",
    "description": "问题描述",
    "photos": "照片",
    "name": "姓名",
    "phone": "联系电话",
}


def choices(reference: Mapping[str, Any]) -> dict[str, Any]:
    """The lists the form offers: county-level units, areas and outfall sub-types."""
    counties = [
        (j["code"], j["name"])
        for j in ref.jurisdictions(reference)
        if j.get("level") in ("county", "zone")
    ]
    sub_types = [(s["code"], s["name"]) for s in ref.sub_types(reference)]
    return {"counties": counties, "areas": list(AREAS.items()), "sub_types": sub_types}


def outfall_prefill(engine: Engine, code: str) -> dict[str, str] | None:
    """The form's values from the outfall ``code`` of the ledger: its coordinates, county,
    sub-type and a place description with its name (None: no such outfall)."""
    try:
        record = Ledger(engine).get(code, SITE).record
    except NotFound:
        return None
    values = {"outfall": str(record["code"]), "outfall_name": str(record.get("name", ""))}
    for name in ("county", "sub_type", "longitude", "latitude"):
        if record.get(name) is not None:
            values[name] = str(record[name])
    where = str(record.get("address") or "")
    values["address"] = f"{where}（排污口 {record['code']} {record.get('name', '')}）".lstrip()
    return values


def _number(text: str, low: float, high: float, label: str, problems: Problems, key: str) -> Any:
    if not text:
        problems[key] = f"请填写{label}，或点击“使用当前位置”"
        return None
    try:
        value = float(text)
    except ValueError:
        problems[key] = f"{label}应为数字（度），例如 {'115.98' if key == 'longitude' else '36.45'}"
        return None
    if not math.isfinite(value) or not low <= value <= high:
        problems[key] = f"{label}应在 {low} 到 {high} 度之间"
        return None
    return value


def _place(
    reference: Mapping[str, Any], values: Mapping[str, str], data: dict[str, Any]
) -> Problems:
    problems: Problems = {}
    counties = {code for code, _ in choices(reference)["counties"]}
    data["county"] = values.get("county", "")
    if data["county"] not in counties:
        problems["county"] = "请选择问题所在的区县"
    if values.get("area"):
        data["area"] = values["area"]
        if values["area"] not in AREAS:
            problems["area"] = "请从列表中选择地区类型"
    if values.get("sub_type"):
        data["sub_type"] = values["sub_type"]
        if ref.sub_type(reference, values["sub_type"]) is None:
            problems["sub_type"] = "请从列表中选择排污口类型，或不选"
    data["longitude"] = _number(
        values.get("longitude", ""), 73.4, 135.1, "经度", problems, "longitude"
    )
    data["latitude"] = _number(values.get("latitude", ""), 3.8, 53.6, "纬度", problems, "latitude")
    if values.get("address"):
        data["address"] = values["address"]
    return problems


def _reporter(values: Mapping[str, str], data: dict[str, Any]) -> Problems:
    """The confidential ``reporter`` field: name, phone, anonymous (absent when none given)."""
    problems: Problems = {}
    reporter: dict[str, Any] = {}
    if values.get("name"):
        reporter["name"] = values["name"]
    if values.get("phone"):
        reporter["phone"] = values["phone"]
        if not _PHONE.match(values["phone"]):
            problems["phone"] = "电话号码应为 5 至 20 位数字（可含 +、空格、-）"
    if values.get("anonymous"):
        reporter["anonymous"] = True
    if reporter:
        data["reporter"] = reporter
    return problems


def report_data(
    reference: Mapping[str, Any], values: Mapping[str, str], photo_count: int
) -> tuple[dict[str, Any], Problems]:
    """The case data the form's ``values`` give (photos added later), and its problems."""
    data: dict[str, Any] = {"channel": "snapshot"}
    problems = _place(reference, values, data)
    data["description"] = values.get("description", "")
    if not data["description"]:
        problems["description"] = "请描述看到的问题，例如排口冒黑水、有异味、偷排"
    if not 1 <= photo_count <= 6:
        problems["photos"] = "请拍摄或选择 1 至 6 张照片" if photo_count == 0 else "最多 6 张照片"
    problems.update(_reporter(values, data))
    for name, limit in MAX_TEXT.items():
        if len(values.get(name, "")) > limit:
            problems[name] = f"{_LABELS[name]}不超过 {limit} 个字"
    return data, problems


def from_invalid(errors: list[FieldError]) -> Problems:
    """What the workflow's schema refused, at the form's fields (in Chinese)."""
    problems: Problems = {}
    for error in errors:
        path = error.json_path.removeprefix("$").lstrip(".")
        top = re.split(r"[.\[]", path, maxsplit=1)[0] if path else ""
        field = _FIELD_OF_PATH.get(path) or _FIELD_OF_PATH.get(top) or top
        label = _LABELS.get(field)
        if label is None:
            problems.setdefault("form", "举报内容不完整，请检查后重新提交")
        else:
            problems.setdefault(field, f"{label}填写有误，请检查")
    return problems
