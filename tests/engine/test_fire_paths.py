"""The fast paths of ``Engine.fire``: timer rows are read and cancelled only where a definition
can have them, and what the facade returns is what a fresh read shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import FakeClock
from engine.errors import StaleVersion
from engine.handlers import Actor, Registry
from engine.runtime import Engine
from engine.store import migrate
from engine.store.repository import Store

ADMIN = Actor("t", "admin")

WITH_TIMERS = """
name: paths_timed
title: 计时
roles: [clerk]
initial: a
states:
  a: {title: A}
  b: {title: B}
  c: {title: C}
  d: {title: D, final: true}
transitions:
  - {trigger: next, source: a, dest: b, roles: [clerk]}
  - {trigger: next, source: b, dest: c, roles: [clerk]}
  - {trigger: back, source: c, dest: a, roles: [clerk]}
  - {trigger: finish, source: c, dest: d, roles: [clerk]}
  - {trigger: remind, source: a, internal: true}
  - {trigger: expire, source: "*", dest: d}
timers:
  a:
    - {fires: remind, after: 1 days}
deadlines:
  overall:
    starts_in: [a]
    runs_until: [d]
    after: 30 days
    fires: expire
"""

WITHOUT_TIMERS = """
name: paths_plain
title: 无计时
roles: [clerk]
initial: a
states:
  a: {title: A}
  b: {title: B, final: true}
transitions:
  - {trigger: next, source: a, dest: b, roles: [clerk]}
"""


@pytest.fixture
def engine(tmp_path: Path, clock: FakeClock) -> Engine:
    store = Store(f"sqlite:///{tmp_path / 'paths.db'}")
    migrate.upgrade(store)
    eng = Engine(store, Registry(), clock=clock)
    eng.publish(WITH_TIMERS)
    eng.publish(WITHOUT_TIMERS)
    return eng


def _names(timers: list) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    return [(t.name, t.state) for t in timers]


def test_leaving_states_without_timers_keeps_the_deadline(engine: Engine) -> None:
    created = engine.create_case("paths_timed", {}, ADMIN)
    assert sorted(t.trigger for t in created.timers) == ["expire", "remind"]
    at_b = engine.fire(created.id, "next", ADMIN)
    assert [t.trigger for t in at_b.timers] == ["expire"]  # a's reminder cancelled on leaving a
    at_c = engine.fire(created.id, "next", ADMIN)  # b has no timers: nothing to cancel
    assert [t.trigger for t in at_c.timers] == ["expire"]
    assert _names(engine.get_case(created.id).timers) == _names(at_c.timers)
    back = engine.fire(created.id, "back", ADMIN)
    assert sorted(t.trigger for t in back.timers) == ["expire", "remind"]
    assert _names(engine.get_case(created.id).timers) == _names(back.timers)


def test_a_definition_without_timers_has_none_to_show(engine: Engine) -> None:
    created = engine.create_case("paths_plain", {}, ADMIN)
    assert created.timers == []
    done = engine.fire(created.id, "next", ADMIN)
    assert done.timers == []
    assert done.version == engine.get_case(created.id).version == 2
    assert engine.get_case(created.id).timers == []


def test_compare_and_set_still_refuses_a_stale_version(engine: Engine) -> None:
    created = engine.create_case("paths_timed", {}, ADMIN)
    engine.fire(created.id, "next", ADMIN, expected_version=created.version)
    with pytest.raises(StaleVersion):
        engine.fire(created.id, "next", ADMIN, expected_version=created.version)
    assert engine.get_case(created.id).state == "b"
    assert engine.verify_audit() == []
