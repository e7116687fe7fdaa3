"""The audit's streams (engine/store/_audit_reads.py): the canonical text they rebuild from
the stored columns is the one ``chain_hash`` hashes for the same row read as an ``EventRow``,
whatever the content (quotes, control characters, non-ASCII, nested JSON, times with and
without microseconds), on the rows an engine wrote."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store._chain import GENESIS, HASHED, case_hash, chain_hash, hashed_body
from tests.conftest import ROOT, START

ODD = ["a", "中", '"', "\\", "\n", "\x00", "\u2028", "é", " ", "\x1f"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(ODD) for _ in range(rng.randint(0, 8)))


def test_hashed_body_is_what_chain_hash_hashes() -> None:
    rng = random.Random(20)
    for _ in range(2000):
        content = {
            "case_id": rng.randint(1, 10**12),
            "seq": rng.randint(1, 99),
            "kind": _text(rng),
            "trigger": rng.choice([None, _text(rng)]),
            "transition": rng.choice([None, 0, 7]),
            "from_state": rng.choice([None, _text(rng)]),
            "to_state": rng.choice([None, _text(rng)]),
            "actor": _text(rng),
            "role": _text(rng),
            "jurisdiction": rng.choice([None, _text(rng)]),
            "payload": rng.choice([{}, {"b": [1, 2.5, _text(rng)], "a": {"z": None, "y": True}}]),
            "patch": rng.choice([{}, {"set": {_text(rng): _text(rng)}, "unset": ["k"]}]),
            "at": datetime(2024, 1, 1, tzinfo=UTC),
            "due_at": rng.choice([None, datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)]),
        }
        values = [content[name] for name in HASHED]
        values = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        assert case_hash(GENESIS, hashed_body(values)) == chain_hash(GENESIS, content)


def test_the_stream_rebuilds_every_stored_hash(engine: Engine) -> None:
    clerk = Actor("clerk", "clerk", None)
    engine.load([ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"])
    for n, at in enumerate((START, START.replace(microsecond=123456))):
        engine.clock = FakeClock(at)
        case_id = engine.create_case("mp_steps", {"worker": n}, clerk).id
        engine.fire(case_id, "assess", clerk, {})
        engine.fire(case_id, "note", clerk, {"note": '第二条 "引" \\ \n\x01'})
    with engine.store.read() as tx:
        streamed = list(tx.audit_events())
        stored = {(e.case_id, e.seq): e for c in tx.case_ids() for e in tx.events(c)}
    assert len(streamed) == len(stored) == 6
    for row in streamed:
        event = stored[(row.case_id, row.seq)]
        assert case_hash(row.prev_hash, row.body) == event.hash
        assert (row.payload, row.patch) == (event.payload, event.patch)
        assert row.gseq is not None
