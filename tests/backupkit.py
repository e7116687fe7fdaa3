"""What the backup tests share (tests/engine/test_backup.py, tests/postgres/test_backup_pg.py):
an installation with a few cases and an evidence photo, and the ``qingliu`` command run on it
with its own database, blob folder and keys."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from engine.backup import MANIFEST, sign
from engine.cli import cli
from engine.clock import FakeClock
from engine.handlers import Actor
from engine.keys import KeyRing
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from tests.attachkit import jpeg_with_gps, upload
from tests.conftest import ROOT, START

__all__ = ["CLERK", "DESK", "PHOTO", "Install", "fill", "installation", "resign"]

DESK = Actor("12345热线受理台", "public")
CLERK = Actor("clerk", "clerk", None)
STEPS = ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"
PHOTO = jpeg_with_gps((64, 48))  # a phone's photo, with its location in the EXIF


@dataclass(frozen=True)
class Install:
    """One installation: its database URL, blob folder and keys folder."""

    url: str
    blobs: Path
    keys: Path

    def settings(self) -> Settings:
        base = load_settings(ROOT / "config")
        return Settings(
            config_dir=base.config_dir,
            database_url=self.url,
            handlers=base.handlers,
            workflows=str(ROOT / "workflows"),
            keys_dir=str(self.keys),
            blobs_dir=str(self.blobs),
            reference=base.reference,
        )

    @contextmanager
    def engine(self, clock: FakeClock | None = None) -> Iterator[Engine]:
        engine = build_engine(self.settings(), clock=clock or FakeClock(START))
        try:
            yield engine
        finally:
            engine.store.dispose()

    def run(self, *args: str, code: int = 0) -> str:
        """``qingliu ARGS`` on this installation; asserts the exit code, returns the output."""
        env = {
            "QINGLIU_DATABASE_URL": self.url,
            "QINGLIU_BLOBS": str(self.blobs),
            "QINGLIU_KEYS": str(self.keys),
            "QINGLIU_CONFIG": str(ROOT / "config"),
        }
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output


def installation(root: Path, url: str, keys: Path | None = None) -> Install:
    return Install(url, root / "blobs", keys or Path(os.environ["QINGLIU_KEYS"]))


def fill(engine: Engine) -> str:
    """A few cases of two workflows, one a public report with a photo: the photo's SHA-256."""
    engine.load([ROOT / "workflows" / "public_report.yaml", STEPS])
    data = {
        "channel": "snapshot",
        "reporter": {"name": "王先生", "phone": "13800000000"},
        "county": "donge",
        "longitude": 116.25,
        "latitude": 36.33,
        "address": "东阿县铜城街道黄河大堤北侧",
        "photos": [upload(engine, DESK, "public_report", "photos", PHOTO, name="河边.jpg")],
        "description": "河边有一根管子在排黑水",
    }
    engine.create_case("public_report", data, DESK)
    for worker in (1, 2, 3):
        case = engine.create_case("mp_steps", {"worker": worker}, CLERK)
        engine.fire(case.id, "assess", CLERK, {})
        engine.fire(case.id, "note", CLERK, {"note": f"第{worker}条"})
    return str(data["photos"][0]["sha256"])


def resign(backup: Path, keys: Path, *changed: str) -> None:
    """Record the new digests of the ``changed`` files and sign the manifest again with the
    key, as someone who holds the key could: only the history audit is left to catch them."""
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    for name in changed:
        manifest["files"][name] = hashlib.sha256((backup / name).read_bytes()).hexdigest()
    manifest["signature"] = sign(KeyRing(keys), manifest)
    (backup / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
