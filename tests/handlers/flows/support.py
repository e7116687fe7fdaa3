"""Helpers for the flow tests: publish every workflow, seed ledger records, let time pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.time.sweep import SweepResult, sweep
from engine.views import CaseView

OUTFALL = "outfall"


def outfall(code: str, county: str = "donge", **fields: Any) -> dict[str, Any]:
    """A ledger record as the ledger stores it (see handlers/ledger.py)."""
    record = {
        "code": code,
        "name": f"排污口{code}",
        "sub_type": "industrial_enterprise",
        "county": county,
        "river": "huanghe",
        "basin": "yellow_river",
        "status": "active",
        "rectification_status": "pending",
        "responsible_fallback": False,
    }
    record.update(fields)
    return record


def seed_ledger(engine: Engine, *records: dict[str, Any]) -> None:
    with engine.store.write() as tx:
        for record in records:
            tx.put_subject(OUTFALL, record["code"], record, record["county"], engine.clock.now())


def ledger_record(engine: Engine, code: str) -> dict[str, Any] | None:
    with engine.store.read() as tx:
        return tx.get_subject(OUTFALL, code)


def pass_time(engine: Engine, clock: FakeClock, moment: datetime) -> SweepResult:
    """Move the clock to ``moment`` and run one scheduler sweep there."""
    clock.set(moment)
    return sweep(engine, moment)


def due_times(view: CaseView) -> dict[str, datetime]:
    """Pending timers of a case by trigger."""
    return {t.trigger: t.due_at for t in view.timers}


def setup_application(
    engine: Engine, code: str, applicant: Actor, county: str = "donge", **data: Any
) -> int:
    """A ``setup_approval`` case: ``applicant`` applies for a new enterprise outfall into 徒骇河
    (city-level EIA) in ``county``; ``data`` overrides any field."""
    body = {
        "outfall_code": code,
        "county": county,
        "sub_type": "industrial_enterprise",
        "kind": "new",
        "eia_level": "city",
        "river": "tuhaihe",
        "name": f"{applicant.name}废水排污口",
        "discharging_unit": applicant.name,
    }
    body.update(data)
    return engine.create_case("setup_approval", body, applicant, subject=code).id
