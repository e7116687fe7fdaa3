"""``report progress`` and ``report deadlines`` count grouped facts the database computes
(handlers/reports/groups.py); they must count exactly what the outfall-by-outfall Python path
(``facts.gather`` + ``facts.stage``, still used by other reports) counts, for every reader."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from engine.errors import Forbidden
from engine.handlers import Actor
from engine.settings import Settings
from engine.store._aggregates import Field
from handlers.demo.city import DemoResult
from handlers.ledger import Ledger
from handlers.reports import compute
from handlers.reports.facts import done_at, gather, is_new, stage
from handlers.reports.groups import groups
from handlers.reports.table import cutoff
from tests.handlers.demo.conftest import demo_ledger

ACTORS = [
    None,
    Actor("市生态环境局", "eeb_city", "liaocheng"),
    Actor("东昌府区生态环境分局", "county_eeb", "dongchangfu"),
    Actor("市水利局", "water_city", "liaocheng"),  # a department: reads fewer workflows
    Actor("东昌府区河长", "river_chief", "dongchangfu"),
]
DAYS = [date(2024, 3, 31), date(2024, 6, 30), date(2024, 12, 31), date(2025, 12, 31)]


def _python(
    ledger: Ledger, actor: Actor | None, as_of: date, days: list[date]
) -> Counter[tuple[object, ...]]:
    facts = gather(ledger, actor, cutoff(as_of))
    out: Counter[tuple[object, ...]] = Counter()
    for outfall in facts.outfalls:
        reached = stage(facts, outfall)
        finished = done_at(facts, outfall)
        on_time = tuple(finished < cutoff(d) for d in days) if finished is not None else ()
        record = outfall.record
        out[
            (
                str(record["county"]),
                str(record["sub_type"]),
                record.get("basin"),
                reached,
                is_new(ledger.reference, outfall),
                on_time,
            )
        ] += 1
    return out


def _sql(
    ledger: Ledger, actor: Actor | None, as_of: date, days: list[date]
) -> Counter[tuple[object, ...]]:
    out: Counter[tuple[object, ...]] = Counter()
    for g in groups(ledger, actor, cutoff(as_of), days):
        on_time = g.on_time if g.finished else ()
        out[(g.county, g.sub_type, g.basin, g.stage, g.new, on_time)] += g.count
    return out


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.role if a else "engine")
def test_the_grouped_counts_are_the_outfall_by_outfall_ones(
    demo_city: tuple[Settings, DemoResult], actor: Actor | None
) -> None:
    settings, _ = demo_city
    for ledger in demo_ledger(settings):
        days = [day for _, _, day in compute._deadline_scopes(ledger.reference)]
        for as_of in DAYS:
            expected = _python(ledger, actor, as_of, days)
            assert _sql(ledger, actor, as_of, days) == expected, (actor, as_of)
            if actor is None or actor.role != "river_chief":
                assert sum(expected.values()) > 0


def test_a_party_is_refused_the_counts_as_it_is_the_reports(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    settings, _ = demo_city
    party = Actor("某排污单位", "discharger", "dongchangfu")
    for ledger in demo_ledger(settings):
        with pytest.raises(Forbidden):
            ledger.engine.count_subjects(party, "outfall", [Field("county")])
        with pytest.raises(Forbidden):
            compute.progress(ledger, date(2024, 12, 31), party)
