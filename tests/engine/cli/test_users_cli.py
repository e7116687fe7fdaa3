"""``qingliu user create|list|passwd|disable|enable`` and the demo's users, as an operator runs
them: the password from ``--password-env`` (never an argument), refused when weak, and never
printed, logged or stored in clear."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.demo.users import DEMO_USERS
from tests.conftest import ROOT, Run

PASSWORD = "Operator-pass-2025"


@pytest.fixture
def users_run(tmp_path: Path) -> Run:
    """``run`` of tests/conftest.py, with QL_PASSWORD set in the command's environment."""
    exe = shutil.which("qingliu", path=str(Path(sys.executable).parent)) or "qingliu"
    env = {
        **os.environ,
        "QINGLIU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "QINGLIU_CONFIG": str(ROOT / "config"),
        "QL_PASSWORD": PASSWORD,
        "QL_WEAK": "password",
        "QL_NEW": "Second-pass-2026",
    }

    def call(*args: str, code: int = 0) -> str:
        done = subprocess.run(
            [exe, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr

    return call


def _database(tmp_path: Path) -> bytes:
    db = tmp_path / "cli.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    return b"".join(p.read_bytes() for p in tmp_path.glob("cli.db*"))


def test_user_commands_create_list_passwd_disable_enable(users_run: Run, tmp_path: Path) -> None:
    made = users_run(
        "user", "create", "wang", "--role", "county_eeb", "--jurisdiction", "dongchangfu",
        "--name", "王科员", "--password-env", "QL_PASSWORD",
    )  # fmt: skip
    assert made.split("\t")[1:] == ["wang", "county_eeb", "dongchangfu\n"]
    users_run("user", "create", "boss", "--role", "admin", "--password-env", "QL_PASSWORD")
    listed = users_run("user", "list").splitlines()
    assert [line.split("\t")[1] for line in listed] == ["wang", "boss"]
    assert listed[0].split("\t")[2:5] == ["王科员", "county_eeb", "dongchangfu"]
    assert listed[0].endswith("\tactive")
    users_run("user", "disable", "wang")
    assert "\tdisabled 20" in users_run("user", "list").splitlines()[0]
    users_run("user", "enable", "wang")
    assert users_run("user", "list").splitlines()[0].endswith("\tactive")
    users_run("user", "passwd", "wang", "--password-env", "QL_NEW")
    everything = _database(tmp_path)
    for clear in (PASSWORD, "Second-pass-2026"):
        assert clear.encode() not in everything
    assert b"$argon2id$" in everything


def test_user_commands_refuse_what_they_must(users_run: Run) -> None:
    weak = users_run(
        "user", "create", "wang", "--role", "admin", "--password-env", "QL_WEAK", code=2
    )
    assert "至少 10 个字符" in weak
    unset = users_run(
        "user", "create", "wang", "--role", "admin", "--password-env", "QL_NOT_SET", code=2
    )
    assert "QL_NOT_SET: the variable is not set or empty" in unset
    county = users_run(
        "user", "create", "wang", "--role", "county_eeb", "--password-env", "QL_PASSWORD", code=2
    )
    assert "acts inside one jurisdiction" in county
    bad_name = users_run(
        "user", "create", "Wang Wu", "--role", "admin", "--password-env", "QL_PASSWORD", code=2
    )
    assert "用户名" in bad_name
    users_run("user", "create", "wang", "--role", "admin", "--password-env", "QL_PASSWORD")
    again = users_run(
        "user", "create", "wang", "--role", "admin", "--password-env", "QL_PASSWORD", code=2
    )
    assert "exists already" in again
    assert "no user named 'li'" in users_run("user", "disable", "li", code=2)
    assert "no user named 'li'" in users_run(
        "user", "passwd", "li", "--password-env", "QL_NEW", code=2
    )
    assert PASSWORD not in weak + unset + county + bad_name + again


def test_the_demo_prints_its_users_passwords_once(users_run: Run, tmp_path: Path) -> None:
    first = users_run("demo")
    assert "控制台用户（密码只显示这一次" in first
    rows = {
        line.split()[0]: line.split()[1]
        for line in first.splitlines()
        if line.split() and line.split()[0] in {u.username for u in DEMO_USERS}
    }
    assert set(rows) == {u.username for u in DEMO_USERS}
    assert "县级生态环境分局" in first
    second = users_run("demo")
    assert "控制台用户" not in second
    assert not any(password in second for password in rows.values())
    everything = _database(tmp_path)
    assert not any(password.encode() in everything for password in rows.values())
    listed = users_run("user", "list")
    assert all(f"\t{u.username}\t" in listed for u in DEMO_USERS)
