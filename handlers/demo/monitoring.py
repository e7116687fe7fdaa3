"""The demo's 强化环境监测 (三(四)4) and 超标溯源联动 (三(四)5): the 2024 monitoring plans of
a few counties, drawn by 双随机 when the county submits and approved by the city in January;
each county's monitoring station samples its rounds ten days before they are due, all within
their limits except one round over its COD limit (an enforcement case opens by itself), and
one round nobody samples: overdue at the end of its due day, escalated after the grace
period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from engine.handlers import Actor
from engine.runtime import Engine
from handlers.demo.names import county_eeb_name
from handlers.reference import data as ref
from handlers.reference import monitoring as mon

__all__ = ["MONITORED", "plan"]

MONITORED = ("donge", "gaotang", "yanggu", "chiping")  # counties with a 2024 plan
OVER_LIMIT = ("donge", "2024-06-30")  # this county's first round due then is over its limit
UNSAMPLED = ("gaotang", "2024-06-30")  # ... and this one's is never sampled: escalated
YEAR = 2024


class _Story(Protocol):
    engine: Engine
    city: Actor

    def at(self, when: datetime, what: str, step: Callable[[], None]) -> None: ...


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in Liaocheng


def plan(story: _Story, planned: Sequence[Any]) -> None:
    for county in MONITORED:
        _monitoring_plan(story, county)
    dues = sorted({d for n in (1, 2, 4, 12) for d in mon.due_dates(YEAR, n)})
    for due in dues:
        sampling_day = date.fromisoformat(due) - timedelta(days=10)
        for county in MONITORED:
            story.at(
                _at(sampling_day),
                f"{county} monitoring rounds due {due}",
                lambda county=county, due=due: _sample_rounds(story, county, due),
            )


def _eeb(story: _Story, county: str) -> Actor:
    name = ref.jurisdiction_name(story.engine.reference, county)
    return Actor(county_eeb_name(name), "county_eeb", county)


def _monitoring_plan(story: _Story, county: str) -> None:
    ids: dict[str, int] = {}
    eeb = _eeb(story, county)

    def create() -> None:
        data = {"county": county, "year": YEAR}
        subject = f"{county}:{YEAR}"
        ids["case"] = story.engine.create_case("monitoring_plan", data, eeb, subject=subject).id
        summary = f"{YEAR}年入河排污口监督监测计划（工矿企业、园区及城镇污水处理厂排污口）"
        story.engine.fire(ids["case"], "submit", eeb, {"summary": summary})

    story.at(_at(date(YEAR, 1, 12)), f"{county} monitoring plan", create)
    story.at(
        _at(date(YEAR, 1, 24)),
        f"{county} monitoring plan approved",
        lambda: story.engine.fire(ids["case"], "approve", story.city, {}),
    )


def _results(story: _Story, code: str, over: bool) -> list[dict[str, Any]]:
    with story.engine.store.read() as tx:
        record = tx.get_subject("outfall", code) or {}
    limits, _ = mon.limits_for(story.engine.reference, record)
    out = [{"parameter": p, "value": round(limit * 0.6, 3)} for p, limit in sorted(limits.items())]
    if over:  # COD at 1.8 times its limit
        out = [
            {**r, "value": round(limits["COD"] * 1.8, 3)} if r["parameter"] == "COD" else r
            for r in out
        ]
    return [*out, {"parameter": "pH", "value": 7.4}]


def _sample_rounds(story: _Story, county: str, due: str) -> None:
    with story.engine.store.read() as tx:
        tasks = tx.list_cases(workflow="monitoring_task", jurisdictions=[county], is_open=True)
    tasks = sorted((t for t in tasks if t.data.get("due_date") == due), key=lambda t: t.id)
    station = f"{ref.jurisdiction_name(story.engine.reference, county)}生态环境监测站"
    eeb = _eeb(story, county)
    for n, task in enumerate(tasks):
        if n == 0 and (county, due) == UNSAMPLED:
            continue
        over = n == 0 and (county, due) == OVER_LIMIT
        sampled = {"sampled_at": story.engine.clock.now().isoformat(), "sampler": station}
        story.engine.fire(task.id, "record_sampling", eeb, sampled)
        body = {"results": _results(story, str(task.data["outfall_code"]), over)}
        story.engine.fire(task.id, "record_results", eeb, body)
