"""The demo's key-river campaign and screening rounds: the 2024 special enforcement campaign on
徒骇河、马颊河、卫运河 and their tributaries (三(四)5: tasks in the counties, an inspection per
outfall, a finding that opens an enforcement case, one county late and escalated), and the 2023
screening rounds of every county (三(一): most cover all their river sections, one does not, is
returned and goes overdue). Scheduled on the story (``handlers.demo.city._Story``) and fired
through the engine facade as the officials would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.handlers import Actor
from handlers.demo.names import county_eeb_name
from handlers.demo.supervision import INSPECTORS, _Story
from handlers.reference import data as ref
from handlers.reports.facts import found_on
from handlers.reports.screening import PLAN_ISSUED

__all__ = ["CAMPAIGN", "LATE_INSPECTOR", "PARTIAL_SCREENER", "plan"]

CAMPAIGN = "campaign:2024:1"
CAMPAIGN_DUE = "2024-06-28"
LATE_INSPECTOR = "guanxian"  # submits its campaign task after the due day: escalated
FINDING_COUNTY = "dongchangfu"  # 私设暗管 found at an outfall in scope: enforcement opened
PARTIAL_SCREENER = "shenxian"  # screens one of its two sections in 2023: returned, overdue


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 1, 0, tzinfo=UTC)  # 09:00 in Liaocheng


def plan(story: _Story, planned: Sequence[Any]) -> None:
    campaign(story)
    for county in ref.county_codes(story.engine.reference):
        screening(story, county)


def _step(story: _Story, when: datetime, what: str, step: Callable[[], None]) -> None:
    story.at(when, what, step)


def _county_eeb(story: _Story, county: str) -> Actor:
    name = ref.jurisdiction_name(story.engine.reference, county)
    return Actor(county_eeb_name(name), "county_eeb", county)


def _fire(
    story: _Story, ids: dict[str, int], trigger: str, actor: Actor, payload: dict[str, Any]
) -> Callable[[], None]:
    def step() -> None:
        story.engine.fire(ids["case"], trigger, actor, payload)

    return step


def _task(story: _Story, county: str) -> int | None:
    for case in story.engine.list_cases(story.city, workflow="campaign_inspection"):
        if case.data.get("county") == county and case.data.get("campaign") == CAMPAIGN:
            return case.id
    return None


def campaign(story: _Story) -> None:
    """The city launches the campaign in May 2024; each county inspects its outfalls in June and
    submits by the due day, but one, which submits a week late; the city then closes it."""
    ids: dict[str, int] = {}
    data = {"county": "liaocheng", "year": 2024, "title": "2024年重点河流入河排污口专项执法检查"}

    def launch() -> None:
        view = story.engine.create_case("key_river_campaign", data, story.city, subject=CAMPAIGN)
        ids["case"] = view.id
        story.engine.fire(view.id, "launch", story.city, {"due": CAMPAIGN_DUE})

    _step(story, _at(2024, 5, 6), "key-river campaign launched", launch)
    for n, county in enumerate(ref.county_codes(story.engine.reference)):
        late = county == LATE_INSPECTOR
        _step(
            story,
            _at(2024, 7, 3) if late else _at(2024, 6, 3 + n),
            f"{county} campaign inspections",
            lambda county=county: _inspect_all(story, county),
        )
    _step(story, _at(2024, 7, 8), "key-river campaign closed", lambda: _close(story, ids))


def _inspect_all(story: _Story, county: str) -> None:
    task = _task(story, county)
    if task is None:  # no outfall of this county in scope
        return
    eeb = _county_eeb(story, county)
    outfalls = story.engine.get_case(task).data["outfalls"]
    codes = [str(o["code"]) for o in outfalls]
    # the finding: not at an enterprise outfall (the exceedance cases of supervision.py take
    # those) nor one with an enforcement case open (one open case per outfall)
    fresh = [
        str(o["code"])
        for o in outfalls
        if o.get("sub_type") != "industrial_enterprise" and not _enforced(story, str(o["code"]))
    ] or codes
    for i, code in enumerate(codes):
        payload: dict[str, Any] = {
            "outfall_code": code,
            "result": "compliant",
            "inspectors": INSPECTORS[i % 3 : i % 3 + 2],
        }
        if county == FINDING_COUNTY and code == fresh[0]:
            payload |= {
                "result": "finding",
                "violation_type": "hidden_pipe",
                "description": "现场检查发现企业私设暗管接入雨水排口，借道排污",
            }
        story.engine.fire(task, "inspect", eeb, payload)
    story.engine.fire(task, "submit", eeb)


def _enforced(story: _Story, code: str) -> bool:
    """An enforcement case about the outfall is open."""
    return any(c.workflow == "enforcement" and c.is_open for c in story.ledger.get(code).cases)


def _close(story: _Story, ids: dict[str, int]) -> None:
    if story.engine.get_case(ids["case"]).state != "closed":
        story.engine.fire(ids["case"], "close", story.city)


def screening(story: _Story, county: str) -> None:
    """The county's 2023 round: opened in May, one section screened a month from June, new
    outfalls found on each section's river named, submitted and confirmed in November; the
    partial screener covers one section only, is returned and goes overdue on 12-31."""
    eeb, ids = _county_eeb(story, county), dict[str, int]()
    reference = story.engine.reference
    sections = ref.river_sections(reference, county=county)
    partial = county == PARTIAL_SCREENER

    def open_round() -> None:
        data = {"county": county, "year": 2023}
        ids["case"] = story.engine.create_case("screening", data, eeb, subject=f"{county}:2023").id

    _step(story, _at(2023, 5, 10), f"{county} 2023 screening", open_round)
    for n, section in enumerate(sections[:1] if partial else sections):
        when = _at(2023, 6 + 2 * n, 12)
        _step(
            story,
            when,
            f"{county} screened {section['code']}",
            lambda section=section, when=when: story.engine.fire(
                ids["case"], "record_section", eeb, _screened(story, county, section, when)
            ),
        )
    submit = _fire(story, ids, "submit", eeb, {})
    _step(story, _at(2023, 11, 20), f"{county} screening submitted", submit)
    if partial:
        reason = {"reason": "未排查全部河段，请补充排查后报送"}
        back = _fire(story, ids, "return_round", story.city, reason)
        _step(story, _at(2023, 11, 27), f"{county} screening returned", back)
        return
    confirm = _fire(story, ids, "confirm", story.city, {})
    _step(story, _at(2023, 11, 27), f"{county} screening confirmed", confirm)


def _screened(
    story: _Story, county: str, section: dict[str, Any], when: datetime
) -> dict[str, Any]:
    """A section's record: the outfalls on its river the county found since the plan."""
    day = when.date().isoformat()
    found = [
        v.code
        for v in story.ledger.list()
        if v.record.get("county") == county
        and v.record.get("river") == section["river"]
        and PLAN_ISSUED <= found_on(v) <= day
    ]
    return {
        "section": str(section["code"]),
        "date": day,
        "screeners": INSPECTORS[:2],
        "new_outfalls": found,
    }
