"""待办's first part is read by walking the running timers in due order (engine/store/
_worklist.py): a case with several running timers is listed once, at its earliest, counted
once as overdue, and paging stays exact across the walk's over-fetch and the parts' edges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from engine.handlers import Actor
from tests.console.conftest import Console

CITY = Actor("c", "eeb_city", "liaocheng")

# Every column but the id: a copy of timer :t on case :c.
_COPY = """INSERT INTO timers (case_id, name, trigger, state, deadline, due_at, status, payload,
    catch_up, every, provisional, created_at, fired_at, base_at, duration, remaining_seconds,
    remaining_working_days)
    SELECT :c, name, trigger, state, deadline, due_at, status, payload, catch_up, every,
    provisional, created_at, fired_at, base_at, duration, remaining_seconds,
    remaining_working_days FROM timers WHERE id = :t"""


@pytest.fixture
def copied(console: Console) -> Iterator[Any]:
    """Copy a timer onto another case; the copies are deleted afterwards."""
    made: list[int] = []

    def copy(timer_id: int, case_id: int) -> None:
        with console.engine.store.engine.begin() as conn:
            conn.execute(text(_COPY), {"c": case_id, "t": timer_id})
            made.append(int(conn.execute(text("SELECT max(id) FROM timers")).scalar_one()))

    yield copy
    with console.engine.store.engine.begin() as conn:
        for timer_id in made:
            conn.execute(text("DELETE FROM timers WHERE id = :t"), {"t": timer_id})


def _ids(console: Console, **page: int) -> list[int]:
    return [i.view.id for i in console.engine.inbox(CITY, **page).items]


def test_a_case_with_two_running_timers_is_listed_once_at_its_earliest(
    console: Console, copied: Any
) -> None:
    before = console.engine.inbox(CITY, limit=1000).items
    timed = [i for i in before if i.deadline is not None and i.deadline.status == "pending"]
    assert len(timed) >= 3
    first, last = timed[0], timed[-1]
    assert first.deadline is not None
    copied(first.deadline.id, last.view.id)  # the last one gets the first one's due time too
    after = console.engine.inbox(CITY, limit=1000)
    ids = [i.view.id for i in after.items]
    assert len(ids) == len(set(ids)) == after.total == len(before)
    moved = next(i for i in after.items if i.view.id == last.view.id)
    assert moved.deadline is not None
    assert moved.deadline.due_at == first.deadline.due_at
    running = [i for i in after.items if i.deadline is not None and i.deadline.status == "pending"]
    keys = [(i.deadline.due_at, i.view.id) for i in running if i.deadline is not None]
    assert keys == sorted(keys)
    # ... and counted once when both are past due
    start = console.clock.now()
    console.clock.set(max(i.deadline.due_at for i in timed if i.deadline is not None))
    try:
        late = console.engine.inbox(CITY, limit=1000)
        past = [
            i
            for i in late.items
            if i.deadline is not None
            and i.deadline.status == "pending"
            and i.deadline.due_at <= console.clock.now()
        ]
        assert late.overdue == len(past) >= 2
    finally:
        console.clock.set(start)


def test_every_page_of_one_or_a_few_rows_matches_the_whole_list(console: Console) -> None:
    whole = _ids(console, limit=1000)
    assert len(whole) > 20
    one_by_one = [
        i for offset in range(len(whole) + 2) for i in _ids(console, offset=offset, limit=1)
    ]
    assert one_by_one == whole
    for limit in (3, 7):
        paged = [
            i
            for offset in range(0, len(whole) + limit, limit)
            for i in _ids(console, offset=offset, limit=limit)
        ]
        assert paged == whole
