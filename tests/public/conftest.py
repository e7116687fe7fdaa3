"""The public pages over the console's live demo server (tests/console/conftest.py): the same
``console``, ``browser`` and ``page`` fixtures, and a client that never signs in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import Console, browser, console, open_page, page, screenshot

__all__ = ["Console", "browser", "console", "open_page", "page", "screenshot"]


@pytest.fixture
def anonymous(console: Console) -> Iterator[TestClient]:
    """A client of the demo app with no session and no token."""
    with TestClient(console.app) as client:
        yield client
