"""What people read instead of codes: role titles, jurisdiction names, history kinds, local
time. Names come from ``config/reference`` (roles.yaml, jurisdictions.yaml); a code the
reference data does not name is shown as it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.roles import RoleBook

__all__ = ["EVENT_KINDS", "Labels"]

# History row kinds (engine/history.py, engine/time, engine/admin_ops.py), in Chinese.
EVENT_KINDS: Mapping[str, str] = {
    "created": "立案",
    "transition": "办理",
    "timer": "时限到期",
    "timer_skipped": "时限跳过",
    "timer_recomputed": "时限重算",
    "timer_moved": "时限调整",
    "deadline_paused": "时限暂停",
    "deadline_resumed": "时限恢复",
    "signed": "会签",
    "migrated": "迁移版本",
    "corrected": "更正数据",
    "cancelled": "撤销",
    "reopened": "重新办理",
    "reassigned": "改派",
}

_LEVELS = {"province": "省级", "city": "市级", "county": "县级", "zone": "功能区"}


def _listing(reference: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    found = reference.get(name)
    if isinstance(found, Mapping):
        found = found.get(name)
    return [item for item in found or [] if isinstance(item, Mapping)]


@dataclass(frozen=True)
class Labels:
    roles: RoleBook = field(default_factory=RoleBook)
    jurisdictions: Mapping[str, str] = field(default_factory=dict)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @classmethod
    def from_reference(cls, reference: Mapping[str, Any], zone: ZoneInfo | None = None) -> Labels:
        names = {
            str(item["code"]): str(item.get("name") or item["code"])
            for item in _listing(reference, "jurisdictions")
            if "code" in item
        }
        return cls(RoleBook.from_reference(reference), names, zone or ZoneInfo("Asia/Shanghai"))

    def role(self, code: str | None) -> str:
        if code is None:
            return ""
        if code == "admin":
            return "系统管理员"
        if code == "system":
            return "系统"
        return self.roles.title(code)

    def jurisdiction(self, code: str | None) -> str:
        if code is None:
            return "全部辖区"
        return self.jurisdictions.get(code, code)

    def event(self, kind: str) -> str:
        return EVENT_KINDS.get(kind, kind)

    def local(self, moment: datetime | None, with_time: bool = True) -> str:
        """``moment`` in the calendar's time zone, as a Chinese office writes it."""
        if moment is None:
            return ""
        here = moment.astimezone(self.zone)
        return here.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
