"""The ledger, reports, ID card and demo over a real engine with the shipped workflows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from handlers.ledger import Ledger

Record = Callable[..., dict[str, Any]]


# The workflows the ledger and its reports work with.
WORKFLOWS = ("responsibility", "rectification", "escalation")


def workflow_files(settings: Settings) -> list[Path]:
    return [Path(settings.workflows) / f"{name}.yaml" for name in WORKFLOWS]


@pytest.fixture
def loaded(engine: Engine, settings: Settings) -> Engine:
    """The engine with the ledger's workflows published from workflows/."""
    engine.load(workflow_files(settings))
    return engine


@pytest.fixture
def ledger(loaded: Engine) -> Ledger:
    return Ledger(loaded)


@pytest.fixture
def city() -> Actor:
    return Actor("市生态环境局", "eeb_city", "liaocheng")


@pytest.fixture
def record() -> Record:
    """A valid ledger record; keyword arguments replace or add fields."""

    def make(code: str = "371502-0001", **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "code": code,
            "name": "东昌府区化工1号排污口",
            "sub_type": "industrial_enterprise",
            "county": "dongchangfu",
            "river": "tuhaihe",
            "longitude": 115.98,
            "latitude": 36.45,
            "entry_mode": "管道",
            "found_at": "2023-05-10",
        }
        base.update(fields)
        return base

    return make
