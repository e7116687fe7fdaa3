"""The console's menu: which pages a signed-in user is offered, by role and level.

An entry is offered to ``who``: ``staff`` (anyone signed in), ``supervisor`` (the admin and
roles of city, province or national level, config/reference/roles.yaml) or ``admin``. Offering
is convenience only: each page checks what it shows through the engine's scope, as the API does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.console.accounts import SignedIn
from engine.definition.model import ADMIN
from engine.runtime import Engine

__all__ = ["ENGINE_MENU", "Menu", "MenuItem", "is_supervisor"]

_SUPERVISING = frozenset({"city", "province", "national"})


@dataclass(frozen=True)
class MenuItem:
    title: str
    href: str
    who: str = "staff"  # staff | supervisor | admin
    order: int = 50


ENGINE_MENU: tuple[MenuItem, ...] = (
    MenuItem("待办", "/inbox", "staff", 10),
    MenuItem("督办看板", "/board", "supervisor", 20),
    MenuItem("流程管理", "/admin/workflows", "admin", 80),
    MenuItem("用户与令牌", "/admin/users", "admin", 90),
)


def is_supervisor(engine: Engine, role: str) -> bool:
    return role == ADMIN or engine.roles.level(role) in _SUPERVISING


class Menu:
    def __init__(self, engine: Engine, extra: Sequence[MenuItem] = ()) -> None:
        self.engine = engine
        self.items = sorted((*ENGINE_MENU, *extra), key=lambda item: item.order)

    def __call__(self, signed: SignedIn | None) -> list[MenuItem]:
        if signed is None:
            return []
        role = signed.user.role
        allowed = {"staff"}
        if is_supervisor(self.engine, role):
            allowed.add("supervisor")
        if role == ADMIN:
            allowed.add("admin")
        return [item for item in self.items if item.who in allowed]
