"""The demo's permit changes and cancellations (setup_change, MEE Order No. 35 变更、注销):
late in 2024 one approved outfall's unit has its name and permit changed, and another's unit,
its outfall no longer used, has it cancelled. Both are chosen when their day comes, among the
outfalls approved by then that are active with nothing left to rectify (last by code)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.handlers import Actor
from handlers.demo.supervision import setup_decider
from handlers.reference import data as ref

__all__ = ["plan"]

CHANGE_ON = datetime(2024, 11, 4, 1, 0, tzinfo=UTC)
CANCEL_ON = datetime(2024, 12, 2, 1, 0, tzinfo=UTC)


def plan(story: Any, planned: Sequence[Any]) -> None:
    applicants = {p.record["code"]: p.named.applicant for p in planned}
    chosen: list[str] = []
    for when, kind in ((CHANGE_ON, "change"), (CANCEL_ON, "cancel")):
        _schedule(story, when, kind, applicants, chosen)


def _schedule(
    story: Any, when: datetime, kind: str, applicants: dict[str, str], chosen: list[str]
) -> None:
    found = ref.department(story.engine.reference, "approval_city") or {}
    bureau = Actor(f"聊城{found.get('name', '市行政审批局')}", "approval_bureau", "liaocheng")
    picked: dict[str, str] = {}

    def apply() -> None:
        code = _candidate(story, chosen, industrial=kind == "cancel")
        if code is None:
            return  # no approved outfall yet: nothing to change
        chosen.append(code)
        picked["code"] = code
        record = story.ledger.get(code).record
        data: dict[str, Any] = {"outfall_code": code, "county": record["county"], "kind": kind}
        if kind == "change":
            name = str(record["name"]).replace("排污口", "污水排污口", 1)
            data["changes"] = {"name": name, "discharge_regime": "intermittent"}
        else:
            data["cancel_reason"] = "unused"
            data["reason_text"] = "企业废水已接入园区污水处理厂，排污口不再使用"
        # the party the ledger names applies (a party applies for its own outfall only)
        party = record.get("responsible_party") or applicants.get(code, "")
        applicant = Actor(str(party), "applicant")
        story.engine.create_case("setup_change", data, applicant, subject=code)

    def accept() -> None:
        if "code" in picked:
            story.fire("setup_change", picked["code"], "accept", _decider(story, picked, bureau))

    def approve() -> None:
        if "code" in picked:
            code = picked["code"]
            number = f"聊审批排〔{when.year}〕{900 + len(chosen) + int(code[-3:])}号"
            decider = _decider(story, picked, bureau)
            story.fire("setup_change", code, "approve", decider, decision_number=number)

    story.at(when, f"setup {kind} applies", apply)
    story.at(when + timedelta(days=3), f"setup {kind} accepted", accept)
    story.at(when + timedelta(days=17), f"setup {kind} approved", approve)


def _decider(story: Any, picked: dict[str, str], bureau: Actor) -> Actor:
    return setup_decider(story.engine, story.case_of("setup_change", picked["code"]), bureau)


def _candidate(story: Any, chosen: list[str], industrial: bool) -> str | None:
    """An approved, active outfall with nothing to rectify; an enterprise's for a cancellation
    (its wastewater now goes to a park plant)."""
    for view in reversed(story.ledger.list(limit=1000)):  # the last by code
        record = view.record
        if (
            view.code not in chosen
            and record.get("setup_basis") == "approval"
            and record.get("status") == "active"
            and record.get("rectification_status") in ("done", "not_needed")
            and (not industrial or record.get("sub_type") == "industrial_enterprise")
        ):
            return str(view.code)
    return None
