"""The demo city's console users: one per kind of person the console serves, each with a
password made at random when the demo is loaded and printed once by ``qingliu demo``.

A user already there is left as it is (its password is not shown again: ``qingliu user passwd``
sets a new one)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from engine.console.accounts import Accounts
from engine.runtime import Engine

__all__ = ["DEMO_USERS", "DemoUser", "create_demo_users"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    jurisdiction: str | None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "系统管理员", "admin", None),
    DemoUser("city.eeb", "市生态环境局 张科长", "eeb_city", "liaocheng"),
    DemoUser("province.eeb", "省生态环境厅 李处长", "eeb_province", "shandong"),
    DemoUser("dongchangfu.eeb", "东昌府区分局 王科员", "county_eeb", "dongchangfu"),
    DemoUser("dongchangfu.gov", "东昌府区政府 赵主任", "county_gov", "dongchangfu"),
    DemoUser("chiping.eeb", "茌平区分局 刘科员", "county_eeb", "chiping"),
    DemoUser("approval", "市行政审批局 陈科员", "approval_bureau", "liaocheng"),
    DemoUser("housing", "市住房城乡建设局 周科员", "housing_city", "liaocheng"),
)


def _password() -> str:
    # letters and digits, as engine.console.accounts.check_password asks
    return f"ql{secrets.randbelow(10)}{secrets.token_urlsafe(10)}"


def create_demo_users(engine: Engine) -> list[tuple[DemoUser, str]]:
    """The demo users created now, each with its password (those already there are left)."""
    accounts = Accounts(engine)
    existing = {u.username for u in accounts.users()}
    made = []
    for user in DEMO_USERS:
        if user.username in existing:
            continue
        password = _password()
        accounts.create_user(
            user.username, password, user.role, user.jurisdiction, user.display_name
        )
        made.append((user, password))
    return made
