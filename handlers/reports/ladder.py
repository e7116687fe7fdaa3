"""Console page of the escalation ladders (督办升级, /escalation): for supervisors, each unit
under escalation (a county, or a city department) with the rung it is on (通报 → 预警 → 约谈 →
挂牌督办, ``handlers.flows.escalation.RUNGS``), the day it reached each rung, the case's state
and a link to the case. The cases are those of the escalation workflow the signed-in user may
read (``Engine.list_cases`` with the actor); a county user gets 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.console.accounts import SignedIn
from engine.console.labels import Labels
from engine.console.menu import is_supervisor
from engine.console.web import ConsoleRoute, Signed, engine_of, labels_of, render
from engine.errors import Forbidden
from engine.runtime import Engine
from engine.views import CaseView
from handlers.flows.escalation import RUNGS
from handlers.reference import data as ref
from handlers.titles import Titles

__all__ = ["LADDER", "Ladder", "Step", "ladders", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

WORKFLOW = "escalation"
LADDER = tuple(r for r in RUNGS if r != "closed")  # the rungs in climbing order


@dataclass(frozen=True)
class Step:
    rung: str
    title: str
    reached: str  # the local day it was reached, "" when not (yet)
    current: bool


@dataclass(frozen=True)
class Ladder:
    case_id: int
    target: str
    county: str
    topic: str
    reason: str
    state: str
    open: bool
    rung: str
    steps: list[Step]
    opened: str
    closed: str


def _target_name(reference: Mapping[str, Any], code: str) -> str:
    if ref.jurisdiction(reference, code) is not None:
        return ref.jurisdiction_name(reference, code)
    dept = ref.department(reference, code)
    return str(dept.get("name") or code) if dept else code


def _day(labels: Labels, stamp: Any) -> str:
    if not isinstance(stamp, str) or not stamp:
        return ""
    try:
        return labels.local(datetime.fromisoformat(stamp), with_time=False)
    except ValueError:
        return stamp[:10]


def _ladder(view: CaseView, reference: Mapping[str, Any], labels: Labels, titles: Titles) -> Ladder:
    data = view.data
    reached: dict[str, str] = {}
    for step in data.get("ladder") or []:
        if isinstance(step, Mapping) and step.get("rung") in RUNGS:
            reached.setdefault(str(step["rung"]), _day(labels, step.get("at")))
    rung = str(data.get("rung") or "")
    is_open = view.case.is_open
    steps = [Step(r, RUNGS[r], reached.get(r, ""), is_open and r == rung) for r in LADDER]
    target = str(data.get("target", ""))
    topic = str(data.get("topic", ""))
    return Ladder(
        case_id=view.id,
        target=_target_name(reference, target),
        county=str(data.get("county") or ""),
        topic=titles.workflow(topic) if topic else "",  # a topic is the workflow it came from
        reason=str(data.get("reason", "")),
        state=view.state_title,
        open=is_open,
        rung=RUNGS.get(rung, rung),
        steps=steps,
        opened=labels.local(view.case.created_at, with_time=False),
        closed=reached.get("closed", "") if not is_open else "",
    )


def ladders(engine: Engine, signed: SignedIn, labels: Labels) -> list[Ladder]:
    """Every escalation case the user may read, as ladders: open ones first, then by county
    (the reference order) and case number."""
    views: list[CaseView] = []
    after = 0
    while True:
        batch = engine.list_cases(signed.actor, workflow=WORKFLOW, after_id=after, limit=500)
        views += batch
        if len(batch) < 500:
            break
        after = batch[-1].id
    order = {code: i for i, code in enumerate(ref.county_codes(engine.reference))}
    titles = Titles(engine)
    found = [_ladder(v, engine.reference, labels, titles) for v in views]
    return sorted(found, key=lambda x: (not x.open, order.get(x.county, 99), x.case_id))


@router.get("/escalation")
def escalation_page(request: Request, signed: Signed) -> HTMLResponse:
    engine = engine_of(request)
    if not is_supervisor(engine, signed.user.role):
        raise Forbidden(
            "督办升级仅供市级及以上监督部门查看 (supervisors only)", role=signed.user.role
        )
    labels = labels_of(request)
    found = ladders(engine, signed, labels)
    return render(
        request,
        "reports/escalation.html",
        {"ladders": found, "rungs": [RUNGS[r] for r in LADDER]},
    )
