"""What the public may read about one outfall (``public_facts``): the facts its page and its
sign board show, each picked by name from the ledger record and from the setup-approval and
rectification cases about it, read as the site (``web.SITE``).

This is a whitelist: every value below is named here, turned into the Chinese people read,
and nothing else leaves. A record or a case's data is never passed on whole, so a field added
to a workflow later (a reporter's phone, an inspection date kept secret) cannot reach a public
page by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.runtime import Engine
from engine.store.repository import CaseRow
from handlers.dates import local_day
from handlers.ledger import Ledger
from handlers.ledger.io import LABELS
from handlers.public.lists import public_name
from handlers.public.web import SITE
from handlers.reference import data as ref
from handlers.titles import Titles

__all__ = ["Decision", "OutfallFacts", "public_facts", "supervision_contact"]

# Final states of setup_approval whose decision is public by law (三(四)2: 审批备案结果依法公开).
_SETUP_DECISIONS = {"approved": "准予设置", "registered": "登记备案", "rejected": "不予许可"}
_SETUP_BASIS_TITLES = {"approval": "审批文号", "registration": "登记编号"}


@dataclass(frozen=True)
class Decision:
    """A public decision about the outfall: what, its number (if any), its day."""

    title: str
    number: str = ""
    day: str = ""


@dataclass(frozen=True)
class OutfallFacts:
    """The public facts of one outfall, as people read them (names, not codes)."""

    code: str
    name: str
    type_class: str
    sub_type: str
    river: str
    basin: str
    county: str
    address: str
    responsible_party: str
    departments: list[str]
    status: str
    merged_into: str
    setup_basis: str
    setup_number_title: str
    setup_number: str
    setup_day: str
    found_at: str
    rectification_status: str
    rectification_mode: str
    rectification_stage: str
    rectification_deadline: str
    delisted_on: str
    decisions: list[Decision] = field(default_factory=list)
    # public information of the record (issue 19). The party's credit code is not a field of
    # the page, but the permit number's first 18 characters are it: a 排污许可证 is issued to a
    # unit (排污单位) and is public on the national permit platform, so it is shown, except
    # when the responsible party is masked as a natural person (then it would name them)
    permit_number: str = ""
    supervising_department: str = ""

    @property
    def latest_decision(self) -> Decision | None:
        dated = [d for d in self.decisions if d.day]
        return max(dated, key=lambda d: d.day) if dated else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _day(value: Any) -> str:
    """The local day of an ISO time or date string ('' when it is not one)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return local_day(moment).isoformat()


def _class_name(reference: Mapping[str, Any], sub_type: str) -> str:
    code = ref.class_of(reference, sub_type)
    classes = (reference.get("outfall_types") or {}).get("classes") or []
    return next((str(c.get("name", "")) for c in classes if c.get("code") == code), "")


def _department_names(reference: Mapping[str, Any], sub_type: str) -> list[str]:
    names = []
    for code in ref.departments_for(reference, sub_type):
        found = ref.department(reference, code)
        names.append(city_named(reference, str(found["name"]) if found else code))
    return names


def city_named(reference: Mapping[str, Any], name: str) -> str:
    """A city department's name as the public reads it: 市生态环境局 → 聊城市生态环境局."""
    city = next((j for j in ref.jurisdictions(reference) if j.get("level") == "city"), None)
    if city is None or not name.startswith("市"):
        return name
    return str(city["name"]).removesuffix("市") + name


def supervision_contact(reference: Mapping[str, Any]) -> tuple[str, str]:
    """The sign board's 监督举报 line: ("电话", the city bureau's ``hotline`` in
    departments.yaml) when the reference data has one, else ("单位", the bureau's name)."""
    bureau = ref.department(reference, "eeb_city") or {}
    hotline = _text(bureau.get("hotline"))
    if hotline:
        return "监督举报电话", hotline
    return "监督举报单位", city_named(reference, _text(bureau.get("name")) or "市生态环境局")


def _setup_decisions(cases: list[CaseRow]) -> list[Decision]:
    found = []
    for case in cases:
        if case.workflow != "setup_approval" or case.state not in _SETUP_DECISIONS:
            continue
        title = _SETUP_DECISIONS[case.state]
        found.append(
            Decision(
                title, _text(case.data.get("decision_number")), _day(case.data.get("decided_on"))
            )
        )
    return found


def _latest(cases: list[CaseRow], workflow: str) -> CaseRow | None:
    mine = [c for c in cases if c.workflow == workflow]
    return max(mine, key=lambda c: c.id) if mine else None


def _rectification(case: CaseRow | None, titles: Titles) -> tuple[str, str, str, list[Decision]]:
    """Its stage (the state's title), deadline, 销号 day and public decisions."""
    if case is None:
        return "", "", "", []
    stage = titles.state(case.workflow, case.state, case.workflow_version)
    deadline = _day(case.data.get("deadline"))
    delisted = _day(case.data.get("delisted_at")) if case.state == "delisted" else ""
    decisions = [Decision("整治完成，销号", "", delisted)] if delisted else []
    return stage, deadline, delisted, decisions


def public_facts(engine: Engine, code: str) -> OutfallFacts:
    """The public facts of outfall ``code`` (``OutfallNotFound`` when it is not in the ledger)."""
    ledger = Ledger(engine)
    view = ledger.get(code, SITE)
    record, reference, titles = view.record, engine.reference, Titles(engine)
    sub_type, river = _text(record.get("sub_type")), _text(record.get("river"))
    found_sub_type = ref.sub_type(reference, sub_type)
    found_river = ref.river(reference, river) or {}
    basins = (reference.get("rivers") or {}).get("basins") or []
    basin = next((b for b in basins if b.get("code") == record.get("basin")), {})
    setup = record.get("setup") if isinstance(record.get("setup"), dict) else {}
    basis = _text(record.get("setup_basis"))
    stage, deadline, delisted, rect_decisions = _rectification(
        _latest(view.cases, "rectification"), titles
    )
    setup_decisions = _setup_decisions(view.cases)
    if not setup_decisions and setup.get("decision_number"):
        title = "准予设置" if basis == "approval" else "登记备案"
        setup_decisions = [
            Decision(title, _text(setup.get("decision_number")), _day(setup.get("decided_on")))
        ]
    return OutfallFacts(
        code=view.code,
        name=_text(record.get("name")),
        type_class=_class_name(reference, sub_type),
        sub_type=str(found_sub_type["name"]) if found_sub_type else sub_type,
        river=_text(found_river.get("name")) or river,
        basin=_text(basin.get("name")),
        county=ref.jurisdiction_name(reference, _text(record.get("county"))),
        address=_text(record.get("address")),
        responsible_party=public_name(record.get("responsible_party")),
        departments=_department_names(reference, sub_type),
        status=LABELS["status"].get(_text(record.get("status")), ""),
        merged_into=_text(record.get("merged_into")),
        setup_basis=LABELS["setup_basis"].get(basis, ""),
        setup_number_title=_SETUP_BASIS_TITLES.get(basis, "批准文号"),
        setup_number=_text(record.get("setup_decision")),
        setup_day=_day(setup.get("decided_on"))
        or next((d.day for d in setup_decisions if d.number == record.get("setup_decision")), ""),
        found_at=_text(record.get("found_at")),
        rectification_status=LABELS["rectification_status"].get(
            _text(record.get("rectification_status")), ""
        ),
        rectification_mode=LABELS["rectification_mode"].get(
            _text(record.get("rectification_mode")), ""
        ),
        rectification_stage=stage,
        rectification_deadline=deadline,
        delisted_on=delisted,
        decisions=[*setup_decisions, *rect_decisions],
        permit_number=_permit_number(record),
        supervising_department=_supervisor_name(reference, record.get("supervising_department")),
    )


def _permit_number(record: Mapping[str, Any]) -> str:
    """The permit number, unless the party's name is masked (a natural person's)."""
    party = record.get("responsible_party")
    if party and public_name(party) != str(party).strip():
        return ""
    return _text(record.get("permit_number"))


def _supervisor_name(reference: Mapping[str, Any], code: Any) -> str:
    found = ref.department(reference, str(code)) if code else None
    return city_named(reference, str(found["name"])) if found else ""
