"""What the simulator tests share: the sandbox parts of the shipped configuration."""

from __future__ import annotations

import pytest

from engine.domain import load_domain
from engine.settings import Settings, calendar_of, scope_of
from engine.simulate import Sandbox


@pytest.fixture
def parts(settings: Settings) -> Sandbox:
    return Sandbox(
        load_domain(settings.handlers).registry,
        calendar_of(settings),
        scope_of(settings),
        settings.reference,
    )
