"""A real ``qingliu serve`` process for the tests that need one (log lines, several workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.conftest import ROOT

__all__ = ["BOUND", "Server"]

QINGLIU = str(Path(sys.executable).with_name("qingliu"))
BOUND = 120  # seconds a server may take to start or stop before the test fails


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A real ``qingliu serve`` process on a fresh SQLite file; its output once stopped."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = tmp_path / "out.log"
        environment = {
            **os.environ,
            "QINGLIU_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "QINGLIU_CONFIG": str(ROOT / "config"),
            "QINGLIU_BLOBS": str(tmp_path / "blobs"),
            "QINGLIU_KEYS": str(tmp_path / "keys"),
            **(env or {}),
        }
        with self.out.open("wb") as sink:
            self.process = subprocess.Popen(
                [QINGLIU, "serve", "--port", str(self.port), *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=ROOT,
            )

    def wait_ready(self) -> None:
        """Until /readyz answers 200 (the workflows loaded, the first sweep ran)."""
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.out.read_text()
            try:
                if httpx2.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)  # polling a starting process, not waiting for time to pass
        raise AssertionError(f"not ready after {BOUND} s:\n{self.out.read_text()}")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.out.read_text(encoding="utf-8")
