"""Joint sign-off (会签, ``sign_off`` on a state): any order, all or k of n, parties from the
case data, a party signs once, non-parties refused, the engine completes the round itself, timers
keep running on the state, leaving discards the round, and replay and the audit accept it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.errors import Forbidden, GuardFailed, InvalidInput, Refused, TriggerNotAllowed
from engine.handlers import Actor, Context, Registry
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store
from engine.time.sweep import sweep
from tests.conftest import ROOT
from tests.engine.api.helpers import problem

FIXTURE = ROOT / "tests" / "fixtures" / "sign_off" / "cosign.yaml"
CLERK = Actor("小王", "clerk", "county_a")
CHIEF = Actor("李科长", "chief", "city")
HOUSING = Actor("住建局张三", "housing", "city")
URBAN = Actor("城管局李四", "urban", "city")
WATER = Actor("水利局王五", "water", "city")
ADMIN = Actor("管理员", "admin")
OPINION = {"opinion": "同意"}


def registry() -> Registry:
    reg = Registry()

    @reg.guard("not_blocked")
    def not_blocked(ctx: Context) -> bool:
        return not ctx.data.get("blocked", False)

    @reg.action("stamp_cosigned")
    def stamp_cosigned(ctx: Context) -> None:
        ctx.data["cosigned_at"] = ctx.now.isoformat()

    @reg.action("count_reminder")
    def count_reminder(ctx: Context) -> None:
        ctx.data["reminders"] = int(ctx.data.get("reminders", 0)) + 1

    @reg.action("set_blocked")
    def set_blocked(ctx: Context) -> None:
        ctx.data["blocked"] = True

    return reg


@pytest.fixture
def eng(tmp_path: Path, clock: FakeClock) -> Iterator[Engine]:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    migrate.upgrade(store)
    engine = Engine(store, registry(), clock=clock, scope=Scope({"county_a": "city", "city": None}))
    engine.load([FIXTURE])
    yield engine
    store.dispose()


def opened(eng: Engine, submit: str = "submit", **data: Any) -> int:
    case_id = eng.create_case("cosign", {"jurisdiction": "county_a", **data}, CLERK).id
    eng.fire(case_id, submit, CLERK)
    return case_id


def round_of(eng: Engine, case_id: int) -> dict[str, Any]:
    found = eng.get_case(case_id, ADMIN).to_json()["sign_off"]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize("order", [(HOUSING, URBAN, WATER), (WATER, HOUSING, URBAN)])
def test_all_parties_in_any_order_complete_it_and_the_engine_leaves(
    eng: Engine, clock: FakeClock, order: tuple[Actor, ...]
) -> None:
    case_id = opened(eng)
    for i, party in enumerate(order):
        clock.advance(timedelta(hours=1))
        view = eng.fire(case_id, "cosign", party, {"opinion": f"{party.name}同意"})
        if i < 2:
            assert view.state == "cosigning"
    assert view.state == "reviewing"
    assert view.data["cosigned_at"] == clock.now().isoformat()  # the done transition's action
    assert "sign_off" not in view.to_json()
    events = eng.history(case_id)
    signed = [e for e in events if e.kind == "signed"]
    assert [(e.actor, e.role, e.payload["party"]) for e in signed] == [
        (p.name, p.role, p.role) for p in order
    ]
    assert signed[0].payload["opinion"] == f"{order[0].name}同意"
    last = events[-1]
    assert (last.kind, last.trigger, last.actor, last.to_state) == (
        "transition",
        "cosigned",
        "system",
        "reviewing",
    )
    assert last.at == signed[-1].at  # same transaction, same moment


def test_the_case_shows_who_signed_and_who_is_pending(eng: Engine, clock: FakeClock) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", URBAN, {"opinion": "同意，请注意管网"})
    shown = round_of(eng, case_id)
    assert shown["parties"] == ["housing", "urban", "water"]
    assert shown["pending"] == ["housing", "water"]
    assert shown["need"] == 3
    assert shown["complete"] is False
    (sig,) = shown["signatures"]
    assert sig["by"] == URBAN.name
    assert sig["party"] == "urban"
    assert sig["opinion"] == "同意，请注意管网"
    assert sig["at"] == clock.now().isoformat()
    # the sign trigger only for parties that have not signed; done for nobody
    assert "cosign" in eng.available_triggers(case_id, HOUSING)
    assert "cosign" not in eng.available_triggers(case_id, URBAN)
    assert "reject_cosign" not in eng.available_triggers(case_id, URBAN)
    assert "cosign" not in eng.available_triggers(case_id, CHIEF)
    assert "cosigned" not in eng.available_triggers(case_id, ADMIN)


def test_a_party_signs_once(eng: Engine) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", HOUSING, OPINION)
    before = eng.get_case(case_id).version
    with pytest.raises(TriggerNotAllowed, match="'housing' has signed already"):
        eng.fire(case_id, "cosign", Actor("住建局另一人", "housing", "city"), OPINION)
    with pytest.raises(TriggerNotAllowed, match="has signed already"):
        eng.fire(case_id, "reject_cosign", HOUSING)
    assert eng.get_case(case_id).version == before


def test_non_parties_are_refused_as_a_role_mismatch(eng: Engine) -> None:
    case_id = opened(eng)
    for actor in (CLERK, CHIEF, ADMIN):
        with pytest.raises(Forbidden, match="not a party to the sign-off in 'cosigning'"):
            eng.fire(case_id, "cosign", actor, OPINION)
    with pytest.raises(Forbidden):
        eng.fire(case_id, "reject_cosign", CHIEF)
    with pytest.raises(TriggerNotAllowed, match="taken by the engine"):
        eng.fire(case_id, "cosigned", ADMIN)
    assert round_of(eng, case_id)["signatures"] == []


def test_the_signature_payload_is_checked(eng: Engine) -> None:
    case_id = opened(eng)
    with pytest.raises(InvalidInput) as refused:
        eng.fire(case_id, "cosign", HOUSING, {"opinion": "", "extra": 1})
    assert {e.json_path for e in refused.value.errors} >= {"$.opinion"}
    assert round_of(eng, case_id)["signatures"] == []


def test_any_k_of_n(eng: Engine) -> None:
    case_id = opened(eng, "submit_quorum")
    assert eng.fire(case_id, "cosign", WATER).state == "quorum"  # default payload: optional
    assert eng.fire(case_id, "cosign", URBAN, OPINION).state == "reviewing"
    assert [e.kind for e in eng.history(case_id)][-3:] == ["signed", "signed", "transition"]


def test_parties_from_the_case_data(eng: Engine) -> None:
    case_id = opened(eng, "submit_listed", departments=["water", "urban"])
    assert round_of(eng, case_id)["parties"] == ["water", "urban"]
    with pytest.raises(Forbidden):
        eng.fire(case_id, "cosign", HOUSING, OPINION)
    assert eng.fire(case_id, "cosign", URBAN, OPINION).state == "reviewing"  # need: 1


def test_no_party_to_wait_for_completes_on_entry(eng: Engine) -> None:
    case_id = opened(eng, "submit_listed", departments=[])
    assert eng.get_case(case_id).state == "reviewing"
    assert [(e.trigger, e.actor) for e in eng.history(case_id)][-2:] == [
        ("submit_listed", CLERK.name),
        ("listed_signed", "system"),
    ]


def test_a_refused_done_transition_refuses_the_last_signature(eng: Engine) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", HOUSING, OPINION)
    eng.fire(case_id, "cosign", URBAN, OPINION)
    eng.fire(case_id, "block", CHIEF)
    before = eng.get_case(case_id).version
    with pytest.raises(GuardFailed, match="not_blocked"):
        eng.fire(case_id, "cosign", WATER, OPINION)
    assert eng.get_case(case_id).version == before
    assert round_of(eng, case_id)["pending"] == ["water"]


def test_timers_run_on_the_state_and_leaving_by_timer_discards_the_round(
    eng: Engine, clock: FakeClock
) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", HOUSING, OPINION)
    for _ in range(2):
        clock.advance(timedelta(days=1))
        sweep(eng)
    view = eng.get_case(case_id, ADMIN)
    assert view.data["reminders"] == 2  # internal reminders keep the round
    assert [s["party"] for s in view.to_json()["sign_off"]["signatures"]] == ["housing"]
    eng.fire(case_id, "cosign", URBAN, OPINION)
    clock.advance(timedelta(days=4))
    sweep(eng)
    assert eng.get_case(case_id).state == "expired"
    eng.fire(case_id, "redo", CHIEF)
    fresh = round_of(eng, case_id)
    assert fresh["signatures"] == []
    assert fresh["pending"] == ["housing", "urban", "water"]
    assert "cosign" in eng.available_triggers(case_id, HOUSING)


def test_refusal_and_send_back_start_a_fresh_round(eng: Engine) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", HOUSING, OPINION)
    assert eng.fire(case_id, "reject_cosign", URBAN).state == "drafting"
    eng.fire(case_id, "submit", CLERK)
    assert round_of(eng, case_id)["signatures"] == []
    for party in (HOUSING, URBAN, WATER):
        eng.fire(case_id, "cosign", party, OPINION)
    assert eng.fire(case_id, "send_back", CHIEF).state == "cosigning"
    assert round_of(eng, case_id)["pending"] == ["housing", "urban", "water"]
    eng.fire(case_id, "cosign", WATER, OPINION)
    assert round_of(eng, case_id)["pending"] == ["housing", "urban"]


def test_replay_and_audit_accept_signatures(eng: Engine) -> None:
    case_id = opened(eng)
    eng.fire(case_id, "cosign", HOUSING, OPINION)
    eng.fire(case_id, "reject_cosign", WATER)
    eng.fire(case_id, "submit", CLERK)
    for party in (URBAN, WATER, HOUSING):
        eng.fire(case_id, "cosign", party, OPINION)
    row, replayed = eng.replay(case_id)
    assert replayed.problems == []
    assert replayed.matches(row)
    assert eng.verify_audit() == []


# -- through the HTTP API -----------------------------------------------------------------------


@pytest.fixture
def client(eng: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(eng)) as test_client:
        yield test_client


def _token(eng: Engine, actor: Actor) -> dict[str, str]:
    _, secret = create_token(eng, actor.name, actor.role, actor.jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


def test_signing_through_post_transitions(eng: Engine, client: TestClient) -> None:
    case_id = opened(eng)
    url = f"/api/v1/cases/{case_id}/transitions"
    housing, chief = _token(eng, HOUSING), _token(eng, CHIEF)
    answer = client.post(url, json={"trigger": "cosign", "payload": OPINION}, headers=housing)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "cosigning"
    assert body["sign_off"]["pending"] == ["urban", "water"]
    assert body["sign_off"]["signatures"][0]["by"] == HOUSING.name
    assert "cosign" not in body["available_triggers"]
    again = client.post(url, json={"trigger": "cosign", "payload": OPINION}, headers=housing)
    assert "signed already" in problem(again, 409, "trigger-not-allowed")["detail"]
    outsider = client.post(url, json={"trigger": "cosign", "payload": OPINION}, headers=chief)
    assert "not a party" in problem(outsider, 403, "forbidden")["detail"]
    bad = client.post(url, json={"trigger": "cosign", "payload": {}}, headers=_token(eng, URBAN))
    (fault,) = problem(bad, 422, "invalid-input")["errors"]
    assert fault["json_path"] == "$.payload"
    assert "opinion" in fault["message"]
    shown = client.get(f"/api/v1/cases/{case_id}", headers=_token(eng, WATER)).json()
    assert "cosign" in shown["available_triggers"]
    assert shown["sign_off"]["pending"] == ["urban", "water"]


CHAIN = """\
name: chain
title: 连续会签
roles: [clerk, housing]
data_schema:
  type: object
  properties:
    jurisdiction: {type: string}
    first: {type: array, items: {type: string}}
    second: {type: array, items: {type: string}}
initial: drafting
states:
  drafting: {title: 起草}
  first:
    title: 第一轮
    sign_off: {parties: {data: first}, trigger: sign, done: first_done}
  second:
    title: 第二轮
    sign_off: {parties: {data: second}, trigger: sign, done: second_done}
  closed: {title: 完成, final: true}
transitions:
  - {trigger: submit, source: drafting, dest: first, roles: [clerk]}
  - {trigger: first_done, source: first, dest: second}
  - {trigger: second_done, source: second, dest: closed}
  - {trigger: loop_back, source: second, dest: first, roles: [clerk]}
"""


def test_sign_offs_with_nobody_to_wait_for_complete_in_a_chain_and_a_loop_is_refused(
    eng: Engine,
) -> None:
    eng.publish(CHAIN)
    data = {"jurisdiction": "county_a", "first": [], "second": []}
    case_id = eng.create_case("chain", data, CLERK).id
    assert eng.fire(case_id, "submit", CLERK).state == "closed"
    assert [e.trigger for e in eng.history(case_id)][-2:] == ["first_done", "second_done"]
    looping = CHAIN.replace(
        "second_done, source: second, dest: closed", "second_done, source: second, dest: first"
    ).replace("loop_back, source: second, dest: first", "close, source: second, dest: closed")
    eng.publish(looping)
    case_id = eng.create_case("chain", data, CLERK).id
    before = eng.get_case(case_id).version
    with pytest.raises(Refused, match="complete one into the next"):
        eng.fire(case_id, "submit", CLERK)
    assert eng.get_case(case_id).version == before


def test_the_workflow_json_shows_its_sign_offs(eng: Engine, client: TestClient) -> None:
    shown = client.get("/api/v1/workflows/cosign", headers=_token(eng, CHIEF)).json()
    assert shown["sign_offs"]["quorum"]["need"] == 2
    assert shown["sign_offs"]["listed"]["parties"] == {"data": "departments"}
    assert shown["sign_offs"]["cosigning"]["refuse"] == "reject_cosign"
