"""The demo city loaded once for the whole session (``demo_city``): the tests that read what
``qingliu demo`` leaves behind share it instead of loading it each (it takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.settings import Settings, build_engine, load_settings
from handlers.demo.city import DemoResult, load_demo
from handlers.ledger import Ledger
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DemoResult]:
    """(settings of a SQLite database holding the demo city, what ``load_demo`` returned)."""
    folder: Path = tmp_path_factory.mktemp("demo")
    base = load_settings(ROOT / "config")
    settings = Settings(
        config_dir=base.config_dir,
        database_url=f"sqlite:///{folder / 'demo.db'}",
        handlers=base.handlers,
        workflows=str(ROOT / "workflows"),
        blobs_dir=str(folder / "blobs"),
        reference=base.reference,
    )
    return settings, load_demo(settings)


def demo_ledger(settings: Settings) -> Iterator[Ledger]:
    """A ledger over the demo database, disposed after the loop's one pass."""
    engine = build_engine(settings)
    try:
        yield Ledger(engine)
    finally:
        engine.store.dispose()
