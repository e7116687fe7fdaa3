"""The work list's place filter (engine/store/_worklist.py) on the column itself: '' asks for
the cases without a place, as the expression coalesce(jurisdiction, '') did, and a place asks
for its own cases only."""

from __future__ import annotations

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT

STEPS = ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"


def test_places_and_no_place(engine: Engine, clock: FakeClock) -> None:
    engine.load([STEPS])
    nowhere = engine.create_case("mp_steps", {"worker": 1}, Actor("clerk", "clerk", None))
    with engine.store.read() as tx:
        row = tx.get_case(nowhere.id)
        assert row is not None
        assert row.jurisdiction is None
        pairs = {row.definition_id: [row.state]}

        def total(places: list[str] | None) -> int:
            return tx.worklist(pairs, clock.now(), jurisdictions=places).total

        assert (total([""]), total(["", "elsewhere"]), total(["elsewhere"]), total(None)) == (
            1,
            1,
            0,
            1,
        )
