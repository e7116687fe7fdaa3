"""Migrating running cases from v1 to v2 (tests/fixtures/versions): the plan per case, the
refusal of unmappable cases, each case moved with its timers and a paused deadline, and the
histories replayed across the ``migrated`` row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, InvalidInput, WorkflowNotFound
from engine.handlers import Actor
from engine.migration_plan import MigrationRefused
from engine.runtime import Engine
from engine.time.sweep import sweep
from tests.conftest import ROOT, START

VERSIONS = ROOT / "tests" / "fixtures" / "versions"
CLERK = Actor("窗口", "clerk")
DAY = timedelta(days=1)


def _timers(engine: Engine, case_id: int) -> dict[str, tuple[str, object]]:
    view = engine.get_case(case_id)
    return {t.name: (t.status, t.due_at) for t in view.timers}


@pytest.fixture
def cases(engine: Engine, clock: FakeClock, admin: Actor) -> dict[str, int]:
    """Four cases on v1, then v2 published: ``paused`` in correcting (its deadline paused),
    ``reviewing`` with two timers and the deadline running, ``received`` (a state v2 renames),
    ``bad_data`` whose permit number v2's schema refuses."""
    engine.load([VERSIONS / "v1.yaml"])
    ids = {}
    ids["paused"] = engine.create_case("mig_permit", {}, CLERK).id
    engine.fire(ids["paused"], "review", CLERK)
    clock.advance(DAY)
    engine.fire(ids["paused"], "ask_correction", CLERK)
    ids["reviewing"] = engine.create_case("mig_permit", {"permit_no": "XK-1"}, CLERK).id
    clock.advance(timedelta(hours=2))
    engine.fire(ids["reviewing"], "review", CLERK)
    ids["received"] = engine.create_case("mig_permit", {"note": "新"}, CLERK).id
    ids["bad_data"] = engine.create_case("mig_permit", {"permit_no": "旧-7"}, CLERK).id
    engine.fire(ids["bad_data"], "review", CLERK)
    clock.advance(timedelta(hours=3))
    engine.publish((VERSIONS / "v2.yaml").read_text("utf-8"), by=admin)
    return ids


def test_the_dry_run_lists_each_case(engine: Engine, cases: dict[str, int], admin: Actor) -> None:
    before = {name: _timers(engine, case_id) for name, case_id in cases.items()}
    report = engine.migrate("mig_permit", 2, admin, mapping={"received": "intake"}, dry_run=True)
    plans = {p.case_id: p for p in report.cases}
    assert sorted(plans) == sorted(cases.values())
    paused = plans[cases["paused"]]
    assert (paused.to_state, paused.refused) == ("correcting", False)
    assert [(t.name, t.change, t.paused) for t in paused.timers] == [("review_limit", "kept", True)]
    reviewing = plans[cases["reviewing"]]
    changes = {t.name: t for t in reviewing.timers}
    assert changes["chase"].change == "cancelled"
    assert changes["review_limit"].change == "kept"
    entered = START + DAY + timedelta(hours=2)  # when the case entered reviewing
    # v2 re-times ping (1 day → 2 days): re-armed from the entry, not from now.
    assert (changes["ping"].change, changes["ping"].new_due_at) == ("rearmed", entered + 2 * DAY)
    received = plans[cases["received"]]
    assert received.to_state == "intake"
    assert [(t.name, t.change) for t in received.timers] == [("nudge", "kept")]
    bad = plans[cases["bad_data"]]
    assert bad.refused
    assert [e.json_path for e in bad.data_errors] == ["$.permit_no"]
    assert report.to_json()["refused"] == [cases["bad_data"]]
    # A dry run changes nothing.
    assert {name: _timers(engine, case_id) for name, case_id in cases.items()} == before
    assert all(engine.get_case(i).case.workflow_version == 1 for i in cases.values())


def test_an_unmapped_state_is_refused(engine: Engine, cases: dict[str, int], admin: Actor) -> None:
    report = engine.migrate("mig_permit", 2, admin, case_ids=[cases["received"]], dry_run=True)
    [plan] = report.cases
    assert plan.refused
    assert "--map received=STATE" in plan.reasons[0]


def test_a_real_run_with_an_unmappable_case_moves_none(
    engine: Engine, cases: dict[str, int], admin: Actor
) -> None:
    with pytest.raises(MigrationRefused) as refused:
        engine.migrate("mig_permit", 2, admin, mapping={"received": "intake"})
    assert [c["case_id"] for c in refused.value.cases] == [cases["bad_data"]]
    assert "$.permit_no" in str(refused.value)
    assert all(engine.get_case(i).case.workflow_version == 1 for i in cases.values())


def test_cases_move_to_v2_with_their_timers_and_replay(
    engine: Engine, cases: dict[str, int], admin: Actor, clock: FakeClock
) -> None:
    chosen = [cases["paused"], cases["reviewing"], cases["received"]]
    paused_before = _timers(engine, cases["paused"])["review_limit"]
    limit_before = _timers(engine, cases["reviewing"])["review_limit"]
    nudge_before = _timers(engine, cases["received"])["nudge"]
    report = engine.migrate(
        "mig_permit",
        2,
        admin,
        mapping={"received": "intake"},
        case_ids=chosen,
        reason="2号文调整审查时限",
    )
    assert report.migrated == chosen
    for case_id in chosen:
        assert engine.get_case(case_id).case.workflow_version == 2
    assert engine.get_case(cases["bad_data"]).case.workflow_version == 1
    # The paused deadline keeps its due time, its pause and its remaining time.
    paused = {t.name: t for t in engine.get_case(cases["paused"]).timers}
    assert (paused["review_limit"].status, paused["review_limit"].due_at) == paused_before
    assert paused["review_limit"].remaining_seconds == int((9 * DAY).total_seconds())
    reviewing = _timers(engine, cases["reviewing"])
    assert set(reviewing) == {"ping", "review_limit"}
    assert reviewing["review_limit"] == limit_before
    assert reviewing["ping"] == ("pending", START + DAY + timedelta(hours=2) + 2 * DAY)
    received = engine.get_case(cases["received"])
    assert received.state == "intake"
    assert _timers(engine, cases["received"])["nudge"] == nudge_before
    [migrated] = [e for e in engine.history(cases["received"]) if e.kind == "migrated"]
    assert (migrated.from_state, migrated.to_state, migrated.actor) == (
        "received",
        "intake",
        admin.name,
    )
    assert migrated.payload["from_version"] == 1
    assert migrated.payload["to_version"] == 2
    assert migrated.payload["state_map"] == {"received": "intake"}
    assert migrated.payload["reason"] == "2号文调整审查时限"
    # The cases go on in v2: the paused deadline resumes, v2's timers fire.
    engine.fire(cases["paused"], "corrected", CLERK)
    engine.fire(cases["received"], "review", CLERK)
    clock.advance(3 * DAY)
    assert sweep(engine).firings
    for case_id in cases.values():
        row, result = engine.replay(case_id)
        assert result.problems == []
        assert result.matches(row)
    assert engine.verify_audit() == []


def test_only_admins_migrate(engine: Engine, cases: dict[str, int]) -> None:
    with pytest.raises(Forbidden):
        engine.migrate("mig_permit", 2, CLERK, dry_run=True)


def test_unknown_versions_and_states(engine: Engine, cases: dict[str, int], admin: Actor) -> None:
    with pytest.raises(WorkflowNotFound):
        engine.migrate("mig_permit", 9, admin, dry_run=True)
    with pytest.raises(WorkflowNotFound):
        engine.migrate("mig_permit", 2, admin, from_version=7, dry_run=True)
    with pytest.raises(InvalidInput) as bad:
        engine.migrate("mig_permit", 2, admin, mapping={"received": "nowhere"})
    assert bad.value.errors[0].json_path == "$.map.received"


def test_from_limits_the_cases(engine: Engine, cases: dict[str, int], admin: Actor) -> None:
    report = engine.migrate("mig_permit", 1, admin, from_version=2, dry_run=True)
    assert report.cases == []
