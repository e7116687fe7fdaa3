"""A grouped count with more keys than a backend binds parameters (SQLite 32,766): the
retained outfalls of a province (engine/store/_aggregates.py ``InKeys``)."""

from __future__ import annotations

from engine.runtime import Engine
from engine.store._aggregates import InKeys, count_subjects


def test_in_keys_beyond_the_bound_parameter_limit(engine: Engine) -> None:
    keys = frozenset(f"371502-01-{n:06d}" for n in range(70_000))
    with engine.store.read() as tx:
        assert count_subjects(tx.conn, "outfall", [InKeys(keys)]) == []
        assert count_subjects(tx.conn, "outfall", [InKeys(frozenset({"o'brien"}))]) == []
