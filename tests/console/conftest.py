"""The console over a live server, driven in a real browser.

``console`` is the demo city (``handlers.demo``: 66 outfalls, cases of every workflow, the
clock at 2025-03-31) on a fresh database, served by uvicorn on a free port of 127.0.0.1 in a
thread of this process, with one user per demo role whose password the tests know
(``PASSWORD``). It is built once per test module; tests that change cases change them for the
rest of their module.

``browser`` is Debian's chromium (``shutil.which("chromium")``) driven by Playwright; no
browser is ever downloaded. ``page`` is a new page in a new context at 1366×768 that lets no
request leave the app: any request to another host is aborted and recorded, and the test
fails at its end if there was one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from engine.api.app import create_app
from engine.clock import FakeClock
from engine.console.accounts import Accounts
from engine.domain import load_domain
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from handlers.demo.city import END, load_demo
from handlers.demo.users import DEMO_USERS
from tests import backends
from tests.conftest import ROOT

PASSWORD = "console-test-2025"
SCREENSHOTS = ROOT / "docs" / "console"


@dataclass
class Console:
    url: str
    engine: Engine
    app: FastAPI
    clock: FakeClock
    settings: Settings
    users: dict[str, Any] = field(default_factory=dict)

    def at(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _database(tmp: Path) -> Iterator[str]:
    server = backends.postgres_server()
    if server is None:
        yield f"sqlite:///{tmp / 'console.db'}"
        return
    with backends.fresh_schema(server) as url:
        yield url


def _settings(url: str) -> Settings:
    base = load_settings(ROOT / "config")
    return Settings(
        config_dir=base.config_dir,
        database_url=url,
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        reference=base.reference,
    )


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    tmp = tmp_path_factory.mktemp("console")
    for url in _database(tmp):
        settings = _settings(url)
        load_demo(settings)
        clock = FakeClock(END)
        engine = build_engine(settings, clock=clock)
        accounts = Accounts(engine)
        users = {}
        for user in DEMO_USERS:
            users[user.username] = accounts.create_user(
                user.username, PASSWORD, user.role, user.jurisdiction, user.display_name
            )
        app = create_app(
            engine, load_domain(settings.handlers), public_base_url=settings.public_base_url
        )
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the console's server did not start"
            assert time.monotonic() < deadline, "the console's server did not start in 30 s"
            time.sleep(0.05)
        try:
            yield Console(f"http://127.0.0.1:{port}", engine, app, clock, settings, users)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            engine.store.dispose()


# Chromium as root in a container, offline: no sandbox, no GPU, and none of the background
# connections it would try to Google's hosts (refused on this machine's closed network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, for one test module: Playwright's sync API keeps an event loop running in this
    thread while it is open, which would break later tests that call ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "the console's browser tests need Debian's chromium (apt-get install chromium "
            "fonts-wqy-microhei; .ci/run installs them)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield found
        found.close()


@dataclass
class Offsite:
    """Requests the page tried to send to another host (each was aborted)."""

    requests: list[str] = field(default_factory=list)


def _local(url: str, base: str) -> bool:
    return url.startswith((base + "/", "data:", "blob:", "about:")) or url == base


def open_page(browser: Any, console: Console, width: int = 1366, height: int = 768) -> Any:
    """A page in a new context of the given size whose requests to other hosts are aborted
    and recorded on ``page.offsite``."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    offsite = Offsite()

    def guard(route: Any) -> None:
        if _local(route.request.url, console.url):
            route.continue_()
        else:
            offsite.requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.offsite = offsite
    return page


@pytest.fixture
def page(browser: Any, console: Console) -> Iterator[Any]:
    found = open_page(browser, console)
    yield found
    offsite = found.offsite.requests
    found.context.close()
    assert offsite == [], f"the page sent requests to other hosts: {offsite}"


def sign_in(page: Any, console: Console, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does, and wait for the start page."""
    page.goto(console.at("/login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(console.url) + r"/(?!login).*"))


def screenshot(page: Any, name: str) -> Path:
    """Take a picture of the page: docs/console/NAME.png (the pictures of docs/console.md) when
    ``QINGLIU_SCREENSHOTS`` is set (``make screenshots``), else a file in a temporary folder, so
    that a test run does not change the repository."""
    if os.environ.get("QINGLIU_SCREENSHOTS"):
        folder = SCREENSHOTS
    else:
        folder = Path(tempfile.gettempdir()) / "qingliu-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def at_demo_date(moment: datetime) -> bool:
    return moment.date() == END.date()
