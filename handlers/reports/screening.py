"""``qingliu report screening``: screening coverage and new outfalls by county (动态排查, plan
三(一): 全域覆盖、新增清零), as of the end of a day (China Standard Time).

- sections: the county's river sections (config/reference/river_sections.yaml);
- screened: of them, those a ``screening`` round recorded as screened on or before the day
  (any round); last screened: the latest such date; coverage = screened / sections; 全域覆盖
  when every section is screened;
- new outfalls: ledger outfalls of the county found (``found_at``, else entered) since the plan
  was issued (``PLAN_ISSUED``), together with the ledger outfalls a screening record named as
  newly found; cleared (已清零): those whose stage (``facts.stage``) is 已完成, 无需整治 or 保留,
  i.e. responsibility traced and the rectification done or not needed.

Cases and outfalls are those the actor reaches (``facts.gather``, ``campaign.read_cases``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.handlers import Actor
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reports.facts import CLEARED, found_on, gather, stage
from handlers.reports.table import Report, cutoff, read_cases

__all__ = ["PLAN_ISSUED", "screening"]

PLAN_ISSUED = "2023-04-22"  # 聊政办字〔2023〕11号 was issued: "new since the plan" from this day


def screening(ledger: Ledger, as_of: date, actor: Actor | None = None) -> Report:
    at = cutoff(as_of)
    reference = ledger.reference
    facts = gather(ledger, actor, at)
    day = as_of.isoformat()
    screened: dict[str, dict[str, str]] = {}  # county -> section -> last date
    reported_new: set[str] = set()
    for case in read_cases(ledger, actor, "screening"):
        if case.created_at >= at:
            continue
        county = str(case.data.get("county"))
        for record in case.data.get("records") or []:
            if str(record.get("date")) > day:
                continue
            sections = screened.setdefault(county, {})
            section = str(record["section"])
            sections[section] = max(sections.get(section, ""), str(record["date"]))
            reported_new |= {str(c) for c in record.get("new_outfalls") or []}
    reach = ledger.engine.scope.narrow(actor)
    counties = [c for c in ref.county_codes(reference) if reach is None or c in reach]
    rows: list[list[Any]] = []
    for county in counties:
        sections = [str(s["code"]) for s in ref.river_sections(reference, county=county)]
        done = {s: d for s, d in screened.get(county, {}).items() if s in sections}
        new = [
            o
            for o in facts.outfalls
            if o.record.get("county") == county
            and (found_on(o) >= PLAN_ISSUED or o.code in reported_new)
        ]
        cleared = sum(1 for o in new if stage(facts, o) in CLEARED)
        total = len(sections)
        rows.append(
            [
                ref.jurisdiction_name(reference, county),
                total,
                len(done),
                max(done.values()) if done else "",
                f"{100 * len(done) / total:.1f}%" if total else "-",
                "是" if total and len(done) == total else "否",
                len(new),
                cleared,
            ]
        )
    covered = sum(1 for r in rows if r[5] == "是")
    return Report(
        name="screening",
        title="排污口动态排查覆盖与新增排污口清零（县区）",
        as_of=as_of.isoformat(),
        keys=["county", "sections", "screened", "last_screened", "coverage", "full_coverage"]
        + ["new_outfalls", "new_cleared"],
        header=["县区", "河段", "已排查", "最近排查", "覆盖率", "全域覆盖", "新增排污口"]
        + ["其中已清零"],
        rows=rows,
        notes={"counties_fully_covered": covered, "counties": len(rows)},
    )
