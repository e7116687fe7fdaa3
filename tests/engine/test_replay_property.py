"""Property: whatever sequence of triggers callers throw at a case, its history replays to its
stored state and data, sequence numbers stay contiguous and the hash chain holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.clock import FakeClock
from engine.errors import CaseError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store
from tests.conftest import START
from tests.engine.test_runtime import CHIEF, CLERK, FIXTURE, review_registry

TRIGGERS = ["submit", "decide", "fast_track", "annotate", "explode", "fly"]
payloads = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"score": st.integers(-10, 130)}),
    st.fixed_dictionaries({"note": st.text(max_size=25)}),
    st.fixed_dictionaries({"score": st.text(max_size=3)}),
)
steps = st.lists(
    st.tuples(st.sampled_from(TRIGGERS), st.sampled_from([CLERK, CHIEF]), payloads), max_size=12
)


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
    migrate.upgrade(store)
    engine = Engine(store, review_registry(), clock=FakeClock(START), scope=Scope())
    engine.load([FIXTURE])
    yield engine
    store.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amount=st.integers(0, 3000), sequence=steps)
def test_random_trigger_sequences_replay_to_the_stored_case(
    eng: Engine, amount: int, sequence: list[tuple[str, Actor, dict[str, object]]]
) -> None:
    case_id = eng.create_case("review", {"amount": amount, "jurisdiction": "county_a"}, CLERK).id
    accepted = 1
    for trigger, actor, payload in sequence:
        try:
            eng.fire(case_id, trigger, actor, payload)
            accepted += 1
        except CaseError:
            pass  # refused calls must leave no trace
    row, result = eng.replay(case_id)
    assert result.problems == []
    assert result.matches(row)
    assert row.version == accepted
    events = eng.history(case_id)
    assert [e.seq for e in events] == list(range(1, accepted + 1))
    assert events[-1].hash == row.last_hash
