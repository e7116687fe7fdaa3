"""The engine facade on the `review` fixture workflow: every rule a caller can run into."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.clock import FakeClock
from engine.errors import (
    CaseNotFound,
    ConfigError,
    DefinitionError,
    DuplicateOpenCase,
    Forbidden,
    GuardFailed,
    HandlerFailed,
    InvalidInput,
    StaleVersion,
    TriggerNotAllowed,
    WorkflowNotFound,
)
from engine.handlers import Actor, Context, Registry
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "core" / "review.yaml"
CLERK = Actor("小王", "clerk", "county_a")
CHIEF = Actor("李科长", "chief", "county_a")


def review_registry() -> Registry:
    registry = Registry()

    @registry.action("stamp_entered")
    def stamp_entered(ctx: Context) -> None:
        ctx.data["entered_checking"] = ctx.now.isoformat()

    @registry.guard("not_blocked")
    def not_blocked(ctx: Context) -> bool:
        return not ctx.data.get("blocked", False)

    @registry.action("write_then_fail")
    def write_then_fail(ctx: Context) -> None:
        ctx.ops.put_subject("item", "side-effect", {"written": True})
        ctx.data["note"] = "half done"
        raise RuntimeError("printer on fire")

    return registry


@pytest.fixture
def eng(tmp_path: Path, clock: FakeClock) -> Iterator[Engine]:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    migrate.upgrade(store)
    scope = Scope({"county_a": "city", "county_b": "city", "city": None})
    engine = Engine(store, review_registry(), clock=clock, scope=scope)
    engine.load([FIXTURE])
    yield engine
    store.dispose()


def new_case(eng: Engine, amount: int = 500, subject: str | None = None, **extra: object) -> int:
    data = {"amount": amount, "jurisdiction": "county_a", **extra}
    return eng.create_case("review", data, CLERK, subject=subject).id


def test_create_then_fire_to_a_final_state(eng: Engine, clock: FakeClock) -> None:
    case_id = new_case(eng)
    clock.advance(timedelta(hours=1))
    view = eng.fire(case_id, "submit", CLERK)
    assert view.state == "checking"
    assert view.data["entered_checking"] == clock.now().isoformat()
    view = eng.fire(case_id, "decide", CHIEF, {"score": 75})
    assert (view.state, view.case.is_open, view.version) == ("yes", False, 3)
    events = eng.history(case_id)
    assert [(e.seq, e.kind, e.trigger, e.from_state, e.to_state) for e in events] == [
        (1, "created", None, None, "on"),
        (2, "transition", "submit", "on", "checking"),
        (3, "transition", "decide", "checking", "yes"),
    ]
    assert [(e.actor, e.role, e.jurisdiction) for e in events][-1] == (
        "李科长",
        "chief",
        "county_a",
    )
    assert events[2].payload == {"score": 75}
    assert events[2].patch == {"set": {"score": 75}}


def test_states_named_on_yes_no_survive_yaml(eng: Engine) -> None:
    _, definition = eng.definition("review")
    assert list(definition.states) == ["on", "checking", "yes", "no"]


def test_conditional_branching_takes_the_first_transition_whose_guard_holds(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK)
    assert eng.fire(case_id, "decide", CHIEF, {"score": 40}).state == "no"


def test_trigger_not_allowed_lists_the_allowed_ones(eng: Engine) -> None:
    case_id = new_case(eng)
    with pytest.raises(TriggerNotAllowed) as info:
        eng.fire(case_id, "decide", CHIEF, {"score": 90})
    assert info.value.allowed == ["annotate"]
    assert str(info.value) == (
        f"case {case_id}: trigger 'decide' is not allowed in state 'on'; allowed now: annotate"
    )


def test_unknown_trigger_is_not_allowed(eng: Engine) -> None:
    case_id = new_case(eng)
    with pytest.raises(TriggerNotAllowed, match="'fly' is not allowed in state 'on'"):
        eng.fire(case_id, "fly", CLERK)


def test_role_is_checked(eng: Engine) -> None:
    case_id = new_case(eng)
    with pytest.raises(Forbidden) as info:
        eng.fire(case_id, "submit", CHIEF)
    assert str(info.value) == "role 'chief' may not fire 'submit' (allowed roles: clerk)"
    assert eng.get_case(case_id).version == 1


def test_admin_may_fire_anything_and_system_only_transitions_need_no_roles(eng: Engine) -> None:
    case_id = new_case(eng)
    assert eng.fire(case_id, "submit", Actor("root", "admin")).state == "checking"


def test_when_guard_and_named_guard_failures_are_named(eng: Engine) -> None:
    case_id = new_case(eng, amount=5000)
    eng.fire(case_id, "submit", CLERK)
    with pytest.raises(GuardFailed) as info:
        eng.fire(case_id, "fast_track", CHIEF)
    assert info.value.guards == ["when"]
    blocked = new_case(eng, amount=10, blocked=True)
    eng.fire(blocked, "submit", CLERK)
    with pytest.raises(GuardFailed) as info:
        eng.fire(blocked, "fast_track", CHIEF)
    assert info.value.guards == ["not_blocked"]
    assert "refused by guard(s) not_blocked" in str(info.value)
    other = new_case(eng, amount=10)
    eng.fire(other, "submit", CLERK)
    assert eng.fire(other, "fast_track", CHIEF).state == "yes"


def test_available_triggers_follow_state_role_and_when(eng: Engine) -> None:
    case_id = new_case(eng, amount=5000)
    assert eng.available_triggers(case_id, CLERK) == ["submit", "annotate"]
    assert eng.available_triggers(case_id, CHIEF) == ["annotate"]
    eng.fire(case_id, "submit", CLERK)
    # decide merges its payload, so it is offered; fast_track's `when` fails on amount
    assert eng.available_triggers(case_id, CHIEF) == ["decide", "annotate", "explode"]


def test_invalid_payload_names_json_paths_and_changes_nothing(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK)
    with pytest.raises(InvalidInput) as info:
        eng.fire(case_id, "decide", CHIEF, {"score": "high"})
    assert [str(e) for e in info.value.errors] == ["$.score: 'high' is not of type 'integer'"]
    with pytest.raises(InvalidInput) as info:
        eng.fire(case_id, "annotate", CHIEF, {"note": "x" * 30, "extra": 1})
    assert [e.json_path for e in info.value.errors] == ["$", "$.note"]
    assert eng.get_case(case_id).version == 2


def test_merged_data_must_still_satisfy_the_data_schema(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK)
    with pytest.raises(InvalidInput) as info:
        eng.fire(case_id, "decide", CHIEF, {"score": 120})
    assert info.value.what == "data"
    assert [str(e) for e in info.value.errors] == [
        "$.score: 120 is greater than the maximum of 100"
    ]
    assert eng.get_case(case_id).state == "checking"


def test_invalid_initial_data_is_refused(eng: Engine) -> None:
    with pytest.raises(InvalidInput) as info:
        eng.create_case("review", {"amount": -1}, CLERK)
    assert [str(e) for e in info.value.errors] == ["$.amount: -1 is less than the minimum of 0"]


def test_handler_failure_rolls_back_everything(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK)
    with pytest.raises(HandlerFailed) as info:
        eng.fire(case_id, "explode", CHIEF)
    assert str(info.value) == (
        f"handler 'write_then_fail' failed on case {case_id}: RuntimeError: printer on fire; "
        "nothing was changed"
    )
    view = eng.get_case(case_id)
    assert (view.state, view.version, "note" in view.data) == ("checking", 2, False)
    with eng.store.read() as tx:
        assert tx.get_subject("item", "side-effect") is None
        assert len(tx.events(case_id)) == 2


def test_closed_case_refuses_triggers(eng: Engine) -> None:
    case_id = new_case(eng, amount=1)
    eng.fire(case_id, "submit", CLERK)
    eng.fire(case_id, "fast_track", CHIEF)
    with pytest.raises(TriggerNotAllowed, match="case is closed in final state 'yes'"):
        eng.fire(case_id, "annotate", CHIEF, {"note": "late"})


def test_stale_expected_version_is_a_conflict(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK, expected_version=1)
    with pytest.raises(StaleVersion) as info:
        eng.fire(case_id, "annotate", CLERK, {"note": "n"}, expected_version=1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert "read it again and retry" in str(info.value)


def test_racing_writers_on_one_version_one_wins(eng: Engine) -> None:
    case_id = new_case(eng)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(note: str) -> None:
        barrier.wait()
        try:
            eng.fire(case_id, "annotate", CLERK, {"note": note}, expected_version=1)
            outcomes.append("ok")
        except StaleVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "stale"]
    assert [e.seq for e in eng.history(case_id)] == [1, 2]


def test_one_open_case_per_subject(eng: Engine) -> None:
    first = new_case(eng, subject="OUT-1")
    with pytest.raises(DuplicateOpenCase) as info:
        new_case(eng, subject="OUT-1")
    assert info.value.existing_id == first
    assert str(info.value) == f"workflow 'review' already has open case {first} for subject 'OUT-1'"
    eng.fire(first, "submit", CLERK)
    eng.fire(first, "decide", CHIEF, {"score": 10})
    assert new_case(eng, subject="OUT-1") != first  # closed cases free the key


def test_jurisdiction_scope(eng: Engine) -> None:
    case_id = new_case(eng)
    outsider = Actor("县B", "clerk", "county_b")
    with pytest.raises(CaseNotFound):
        eng.get_case(case_id, outsider)
    with pytest.raises(CaseNotFound):
        eng.fire(case_id, "submit", outsider)
    city = Actor("市局", "chief", "city")
    assert eng.get_case(case_id, city).id == case_id
    assert [v.id for v in eng.list_cases(outsider)] == []
    assert [v.id for v in eng.list_cases(city)] == [case_id]
    with pytest.raises(Forbidden):
        eng.create_case("review", {"amount": 1, "jurisdiction": "county_a"}, outsider)


def test_not_found_errors(eng: Engine) -> None:
    with pytest.raises(CaseNotFound, match="case 999 not found"):
        eng.get_case(999)
    with pytest.raises(WorkflowNotFound, match="workflow 'nope' not found"):
        eng.create_case("nope", {}, CLERK)
    with pytest.raises(Forbidden, match="role 'stranger' may not open 'review' cases"):
        eng.create_case("review", {"amount": 1}, Actor("x", "stranger"))


def test_a_changed_definition_is_a_new_version_and_running_cases_keep_theirs(
    eng: Engine, tmp_path: Path
) -> None:
    old_case = new_case(eng)
    changed = FIXTURE.read_text(encoding="utf-8").replace("title: 审核中", "title: 复核中")
    path = tmp_path / "review.yaml"
    path.write_text(changed, encoding="utf-8")
    assert [(p.version, p.created) for p in eng.load([path])] == [(2, True)]
    assert [(p.version, p.created) for p in eng.load([path])] == [(2, False)]
    new = new_case(eng)
    assert eng.fire(old_case, "submit", CLERK).state_title == "审核中"
    assert eng.fire(new, "submit", CLERK).state_title == "复核中"
    assert eng.get_case(old_case).case.workflow_version == 1


def test_a_broken_file_publishes_nothing(eng: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(FIXTURE.read_text(encoding="utf-8").replace("name: review", "name: other"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: x\n")
    with pytest.raises(DefinitionError):
        eng.load([good, bad])
    assert [d.name for d in eng.definitions()] == ["review"]


def test_replay_reproduces_state_and_data(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "annotate", CLERK, {"note": "first"})
    eng.fire(case_id, "submit", CLERK)
    eng.fire(case_id, "decide", CHIEF, {"score": 61})
    row, result = eng.replay(case_id)
    assert result.problems == []
    assert result.matches(row)
    assert (result.state, result.data["note"], result.version) == ("yes", "first", 4)


def test_audit_detects_an_edited_and_a_deleted_row(eng: Engine) -> None:
    a, b = new_case(eng), new_case(eng)
    for case_id in (a, b):
        eng.fire(case_id, "submit", CLERK)
        eng.fire(case_id, "decide", CHIEF, {"score": 70})
    assert eng.verify_audit() == []
    with eng.store.write() as tx:
        edit = "UPDATE events SET actor = 'someone else' WHERE case_id = :c AND seq = 2"
        tx.conn.execute(text(edit), {"c": a})
        tx.conn.execute(text("DELETE FROM events WHERE case_id = :c AND seq = 2"), {"c": b})
    assert eng.verify_audit() == [
        f"case {a} event 2: content does not match its hash",
        f"case {b}: event 2 is missing (found seq 3)",
    ]


def test_replay_notices_a_tampered_state(eng: Engine) -> None:
    case_id = new_case(eng)
    eng.fire(case_id, "submit", CLERK)
    with eng.store.write() as tx:
        tx.conn.execute(text("UPDATE cases SET state = 'yes' WHERE id = :c"), {"c": case_id})
    row, result = eng.replay(case_id)
    assert not result.matches(row)
    assert result.state == "checking"


def test_a_handler_name_registered_twice_is_a_configuration_error_naming_both() -> None:
    first, second = Registry(), Registry()

    @first.action("notify")
    def notify_county(ctx: Context) -> None: ...

    @second.action("notify")
    def notify_city(ctx: Context) -> None: ...

    with pytest.raises(
        ConfigError,
        match=r"action 'notify' is registered twice: by .*notify_county and .*notify_city",
    ):
        Registry.merged(first, second)
    first.guard("ok")(lambda ctx: True)
    with pytest.raises(ConfigError, match="guard 'ok' is registered twice"):
        first.guard("ok")(lambda ctx: True)


def test_a_workflow_without_a_business_key_opens_several_cases_per_subject(
    eng: Engine, tmp_path: Path
) -> None:
    """``one_open_case_per_subject`` is the definition's choice: without it, two open cases may
    be about one subject (two exceedances of one outfall, two notices), never an integrity
    error of the database."""
    source = FIXTURE.read_text(encoding="utf-8").replace("one_open_case_per_subject: true\n", "")
    assert "one_open_case_per_subject" not in source
    keyless = tmp_path / "review.yaml"
    keyless.write_text(source.replace("name: review", "name: review_many", 1), "utf-8")
    eng.load([keyless])
    data = {"amount": 1, "jurisdiction": "county_a"}
    first = eng.create_case("review_many", data, CLERK, subject="OUT-1").id
    second = eng.create_case("review_many", data, CLERK, subject="OUT-1").id
    assert second != first
    assert {v.id for v in eng.list_cases(CLERK, subject="OUT-1")} == {first, second}
    new_case(eng, subject="OUT-1")
    with pytest.raises(DuplicateOpenCase):  # the keyed workflow keeps its key
        new_case(eng, subject="OUT-1")
