"""The public column's lists (专栏, 聊政办字〔2023〕11号 四(四)), as of a day, read as the site.

    decisions(engine, as_of)    设置审批 and 登记 decisions published (三(四)2): setup_approval
                                cases approved, refused (不予许可) or registered by ``as_of``
    inspections(engine, as_of)  双随机 spot checks published after the inspection (一公开, 三(三)):
                                effectiveness_check cases whose ``publication`` came by ``as_of``
    enforcement(engine, as_of)  行政处罚决定 (penalty decisions) made by ``as_of``

Each list is a ``PublicList``: rows of the fields its ``FIELDS`` names and nothing else (a
whitelist: a field added to a workflow, confidential or not, never reaches the column). The
names of natural persons are masked (``public_name``); legal persons' names are public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.runtime import Engine
from engine.views import CaseView
from handlers.dates import local_day
from handlers.ledger import Ledger
from handlers.public.web import SITE
from handlers.reference import data as ref

__all__ = [
    "DECISIONS",
    "ENFORCEMENT",
    "INSPECTIONS",
    "LISTS",
    "PublicList",
    "decisions",
    "enforcement",
    "inspections",
    "public_name",
]

# A name ending with one of these is an organisation's (a legal person or an office), published
# as it is: 某某有限公司, 某某污水处理厂, 某某村民委员会, 某某镇人民政府. Any other name is taken
# for a natural person's and masked, so a doubt masks.
_ORGANISATION = re.compile(
    "(公司|集团|厂|场|站|中心|局|院|所|社|会|政府|管委|处|队|学校|医院|店|部|园|馆|办|基地|村)$"
)
_TRAILING_NOTE = re.compile(r"\s*[（(][^（()）]*[)）]$")  # 某某律师事务所（普通合伙）


def public_name(name: Any) -> str:
    """A party's name as the column shows it: an organisation's in full, a natural person's
    masked to its first character (张三 → 张**)."""
    text = str(name or "").strip()
    if not text:
        return ""
    if len(text) >= 4 and _ORGANISATION.search(_TRAILING_NOTE.sub("", text)):
        return text
    return text[0] + "**"


@dataclass(frozen=True)
class PublicList:
    name: str
    title: str
    as_of: str
    fields: tuple[tuple[str, str], ...]  # (JSON key, Chinese header)
    rows: list[dict[str, Any]]

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.fields]

    @property
    def header(self) -> list[str]:
        return [h for _, h in self.fields]

    def table(self) -> list[list[Any]]:
        return [[row.get(k) for k in self.keys] for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {
            "list": self.name,
            "title": self.title,
            "as_of": self.as_of,
            "count": len(self.rows),
            "rows": [{k: row.get(k) for k in self.keys} for row in self.rows],
        }


def _cases(engine: Engine, workflow: str) -> Iterator[CaseView]:
    after = 0
    while True:
        batch = engine.list_cases(SITE, workflow=workflow, after_id=after, limit=1000)
        yield from batch
        if len(batch) < 1000:
            return
        after = batch[-1].id


def _outfalls(engine: Engine) -> dict[str, Mapping[str, Any]]:
    return {v.code: v.record for v in Ledger(engine).list(SITE)}


def _sub_type_name(reference: Mapping[str, Any], code: Any) -> str:
    found = ref.sub_type(reference, str(code or ""))
    return str(found["name"]) if found else str(code or "")


# -- 审批备案 decisions (三(四)2) ---------------------------------------------------------------

DECISIONS = (
    ("decided_on", "决定日期"),
    ("decision_number", "文号"),
    ("kind", "类别"),
    ("decision", "决定"),
    ("application", "申请事项"),
    ("outfall_code", "排污口编码"),
    ("outfall_name", "排污口名称"),
    ("unit", "责任主体"),
    ("county", "县区"),
    ("river", "受纳水体"),
    ("authority", "决定机关"),
)
_DECIDED = {"approved": ("设置审批", "批准"), "rejected": ("设置审批", "不予许可")}
_DECIDED_REGISTERED = ("备案", "予以登记")
_APPLICATIONS = {"new": "新设", "change": "改设", "enlarge": "扩大", "retroactive": "补办"}


def decisions(engine: Engine, as_of: date) -> PublicList:
    """The decided setup applications, latest first: only approved, refused or registered
    ones with their publication, decided on or before ``as_of``."""
    records = _outfalls(engine)
    rows = []
    for case in _cases(engine, "setup_approval"):
        published = case.data.get("publication")
        decided = str(case.data.get("decided_on") or "")
        if case.state not in (*_DECIDED, "registered") or not isinstance(published, dict):
            continue
        if not decided or decided > as_of.isoformat():
            continue
        code = str(case.data.get("outfall_code") or "")
        record = records.get(code, {})
        kind, decision = _DECIDED.get(case.state, _DECIDED_REGISTERED)
        rows.append(
            {
                "decided_on": decided,
                "decision_number": published.get("decision_number") or "",
                "kind": kind,
                "decision": decision,
                "application": _APPLICATIONS.get(str(case.data.get("kind")), ""),
                "outfall_code": code,
                "outfall_name": published.get("outfall_name") or record.get("name") or "",
                "unit": public_name(
                    published.get("discharging_unit") or record.get("responsible_party")
                ),
                "county": published.get("county") or "",
                "river": published.get("river") or "",
                "authority": published.get("authority") or "",
            }
        )
    rows.sort(key=lambda r: (r["decided_on"], r["decision_number"]), reverse=True)
    return PublicList(
        "decisions", "入河排污口设置审批与登记结果公示", as_of.isoformat(), DECISIONS, rows
    )


# -- 双随机 一公开 spot checks (三(三)) ---------------------------------------------------------

INSPECTIONS = (
    ("published_on", "公开日期"),
    ("county", "被检查县区"),
    ("year", "年度"),
    ("drawn_on", "抽取日期"),
    ("inspection_date", "检查日期"),
    ("pool_size", "抽样池排污口数"),
    ("drawn", "抽中排污口数"),
    ("outfall_code", "排污口编码"),
    ("outfall_name", "排污口名称"),
    ("sub_type", "排污口类型"),
    ("unit", "责任主体"),
    ("result", "检查结果"),
    ("finding", "发现问题"),
    ("pool_sha256", "抽样池承诺（SHA-256）"),
    ("secret_sha256", "密钥承诺（SHA-256）"),
)


def _drawn_on(published: Mapping[str, Any]) -> str:
    drawn_at = published.get("drawn_at")
    if not drawn_at:
        return ""
    return local_day(datetime.fromisoformat(str(drawn_at))).isoformat()


def inspections(engine: Engine, as_of: date) -> PublicList:
    """One row per outfall checked in a city spot check whose results were published on or
    before ``as_of`` (the draw's facts repeated on each of its rows), latest first."""
    reference, records = engine.reference, _outfalls(engine)
    rows = []
    for case in _cases(engine, "effectiveness_check"):
        published = case.data.get("publication")
        if not isinstance(published, dict):
            continue
        on = str(published.get("published_on") or "")
        if not on or on > as_of.isoformat():
            continue
        targets = {str(t.get("outfall_code")): t for t in published.get("targets") or []}
        commitment = published.get("commitment") or {}
        draw = {
            "published_on": on,
            "county": ref.jurisdiction_name(reference, str(published.get("county") or "")),
            "year": published.get("year"),
            "drawn_on": _drawn_on(published),
            "inspection_date": published.get("inspection_date") or "",
            "pool_size": len(published.get("pool") or []),
            "drawn": len(targets),
            "pool_sha256": commitment.get("pool_sha256") or "",
            "secret_sha256": commitment.get("secret_sha256") or "",
            "case_id": case.id,
        }
        for result in published.get("results") or []:
            code = str(result.get("outfall_code") or "")
            record = records.get(code, {})
            sub = targets.get(code, {}).get("sub_type") or record.get("sub_type")
            rows.append(
                {
                    **draw,
                    "outfall_code": code,
                    "outfall_name": record.get("name") or "",
                    "sub_type": _sub_type_name(reference, sub),
                    "unit": public_name(record.get("responsible_party")),
                    "result": "合格" if result.get("passed") else "不合格",
                    "finding": str(result.get("finding") or ""),
                }
            )
    rows.sort(key=lambda r: (r["published_on"], r["county"], r["outfall_code"]), reverse=True)
    return PublicList(
        "inspections", "入河排污口“双随机”抽查结果", as_of.isoformat(), INSPECTIONS, rows
    )


# -- 行政处罚决定 (三(四)5) -----------------------------------------------------------------------

ENFORCEMENT = (
    ("decided_on", "决定日期"),
    ("decision_number", "处罚决定书文号"),
    ("unit", "当事人"),
    ("violation", "违法行为类型"),
    ("legal_basis", "法律依据"),
    ("penalty", "处罚内容"),
    ("fine_yuan", "罚款（元）"),
    ("outfall_code", "排污口编码"),
    ("county", "县区"),
    ("authority", "执法部门"),
)


def _decided_on(engine: Engine, case: CaseView, as_of: date) -> str | None:
    """The local day of the case's penalty decision, if it was made by the end of ``as_of``."""
    for event in engine.history(case.id, SITE):
        if event.trigger == "decide_penalty" and event.to_state:
            day = local_day(event.at)
            return day.isoformat() if day <= as_of else None
    return None


def _penalty(fine: Any) -> str:
    return f"罚款 {fine:,.0f} 元" if isinstance(fine, int | float) and fine > 0 else "见决定书"


def enforcement(engine: Engine, as_of: date) -> PublicList:
    """The penalty decisions (行政处罚决定书) made on or before ``as_of``, latest first: the
    party (a natural person's name masked), the violation, the number, the date, the fine."""
    reference = engine.reference
    rows = []
    for case in _cases(engine, "enforcement"):
        number = case.data.get("penalty_decision")
        if not number:
            continue
        decided = _decided_on(engine, case, as_of)
        if decided is None:
            continue
        violation = ref.violation(reference, str(case.data.get("violation_type") or ""))
        units = case.data.get("units") or []
        main = case.data.get("main_unit") or next(
            (u.get("name") for u in units if isinstance(u, dict) and u.get("main")), None
        )
        names = [main] if main else [u.get("name") for u in units if isinstance(u, dict)]
        fine = case.data.get("fine_yuan")
        rows.append(
            {
                "decided_on": decided,
                "decision_number": str(number),
                "unit": "、".join(public_name(n) for n in names if n),
                "violation": str(violation["name"]) if violation else "其他违法行为",
                "legal_basis": str(case.data.get("legal_basis") or ""),
                "penalty": _penalty(fine),
                "fine_yuan": fine if isinstance(fine, int | float) else None,
                "outfall_code": str(case.data.get("outfall_code") or ""),
                "county": ref.jurisdiction_name(reference, str(case.data.get("county") or "")),
                "authority": str(case.data.get("enforcing_authority_name") or ""),
            }
        )
    rows.sort(key=lambda r: (r["decided_on"], r["decision_number"]), reverse=True)
    return PublicList("enforcement", "行政处罚决定公开", as_of.isoformat(), ENFORCEMENT, rows)


LISTS = {"decisions": decisions, "inspections": inspections, "enforcement": enforcement}
