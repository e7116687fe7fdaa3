"""``report progress`` / ``report deadlines`` on PostgreSQL: the grouped counts the database
computes (JSON extraction, window functions, boolean group keys) are the outfall-by-outfall
ones there too, on the demo city loaded into a schema of its own."""

from __future__ import annotations

from datetime import date

import pytest

from engine.settings import Settings, build_engine
from handlers.demo.city import load_demo
from handlers.ledger import Ledger
from handlers.reports import compute
from tests.handlers.demo.test_demo_reports_sql import ACTORS, DAYS, _python, _sql

pytestmark = pytest.mark.postgres


def test_the_grouped_counts_are_the_outfall_by_outfall_ones_on_postgres(
    settings: Settings,
) -> None:
    load_demo(settings)
    engine = build_engine(settings)
    try:
        ledger = Ledger(engine)
        days = [day for _, _, day in compute._deadline_scopes(ledger.reference)]
        for actor in ACTORS:
            for as_of in DAYS:
                expected = _python(ledger, actor, as_of, days)
                assert _sql(ledger, actor, as_of, days) == expected, (actor, as_of)
        rows = compute.progress(ledger, date(2025, 12, 31), ACTORS[1]).rows
        assert rows[-1][0] == "合计"
        assert rows[-1][2] > 0
    finally:
        engine.store.dispose()
