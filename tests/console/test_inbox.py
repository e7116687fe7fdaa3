"""待办, the case list and the board, through the app in process (TestClient) and the facade:
who sees which cases, in which order, with which counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from engine.console.board import soon_cutoff
from engine.handlers import Actor
from engine.runtime import Engine
from tests.console.conftest import PASSWORD, Console


def client_for(console: Console, username: str) -> TestClient:
    signed = console.app.state.accounts.sign_in(username, PASSWORD)
    client = TestClient(console.app, base_url="http://127.0.0.1")
    client.cookies.set("qingliu_session", signed.secret)
    return client


def acting(engine: Engine, actor: Actor) -> list[int]:
    """The inbox worked out the slow way: every open case the actor reads whose state has a
    transition admitting its role."""
    out = []
    for view in engine.list_cases(actor, is_open=True, limit=100_000):
        _, d = engine.definition(view.case.workflow, view.case.workflow_version)
        if any(view.state in t.sources and t.admits(actor.role) for t in d.transitions):
            out.append(view.id)
    return sorted(out)


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num"><a href="/cases/(\d+)">', html)]


@pytest.fixture
def sql(console: Console) -> Iterator[Any]:
    """Run a statement on the console's database (to pause a deadline and the like)."""

    def run(statement: str, **params: Any) -> None:
        with console.engine.store.engine.begin() as conn:
            conn.execute(text(statement), params)

    return run


# -- the query ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "jurisdiction"),
    [
        ("county_eeb", "dongchangfu"),
        ("county_gov", "dongchangfu"),
        ("county_eeb", "guanxian"),
        ("eeb_city", "liaocheng"),
        ("housing_city", "liaocheng"),
        ("admin", None),
    ],
)
def test_the_inbox_holds_the_readable_open_cases_where_the_role_may_act(
    console: Console, role: str, jurisdiction: str | None
) -> None:
    actor = Actor("someone", role, jurisdiction)
    page = console.engine.inbox(actor, limit=1000)
    assert sorted(i.view.id for i in page.items) == acting(console.engine, actor)
    assert page.total == len(page.items)
    reach = console.engine.scope.narrow(actor)
    for item in page.items:
        assert item.view.case.is_open
        assert reach is None or item.view.case.jurisdiction in reach
        assert item.triggers, "each row names what the role may do there"
        assert all(t.admits(role) and item.view.state in t.sources for t in item.triggers)


def test_a_county_sees_none_of_another_countys_cases(console: Console) -> None:
    mine = console.engine.inbox(Actor("a", "county_eeb", "dongchangfu"), limit=1000).items
    theirs = console.engine.inbox(Actor("b", "county_eeb", "guanxian"), limit=1000).items
    assert mine
    assert theirs
    assert {i.view.case.jurisdiction for i in mine} == {"dongchangfu"}
    assert {i.view.case.jurisdiction for i in theirs} == {"guanxian"}


def test_the_inbox_is_in_due_order_paused_ones_then_cases_without_a_timer_last(
    console: Console, sql: Any
) -> None:
    city = Actor("c", "eeb_city", "liaocheng")
    before = console.engine.inbox(city, limit=1000).items
    timed = [i for i in before if i.deadline is not None]
    untimed = [i for i in before if i.deadline is None]
    assert len(timed) >= 3
    assert untimed
    keys = [(i.deadline.due_at, i.view.id) for i in timed if i.deadline is not None]
    assert keys == sorted(keys)
    assert [i.view.id for i in before] == [i.view.id for i in timed + untimed]
    # untimed ones by id
    assert [i.view.id for i in untimed] == sorted(i.view.id for i in untimed)
    first = timed[0].view.id
    sql("UPDATE timers SET status = 'paused' WHERE case_id = :c AND status = 'pending'", c=first)
    try:
        after = [i.view.id for i in console.engine.inbox(city, limit=1000).items]
        untimed_ids = [i.view.id for i in untimed]
        assert after.index(first) == len(after) - len(untimed_ids) - 1
        assert after[-len(untimed_ids) :] == untimed_ids
    finally:
        sql(
            "UPDATE timers SET status = 'pending' WHERE case_id = :c AND status = 'paused'", c=first
        )


def test_the_inbox_pages_with_an_offset(console: Console) -> None:
    city = Actor("c", "eeb_city", "liaocheng")
    whole = [i.view.id for i in console.engine.inbox(city, limit=1000).items]
    first = console.engine.inbox(city, offset=0, limit=10)
    second = console.engine.inbox(city, offset=10, limit=10)
    assert [i.view.id for i in first.items + second.items] == whole[:20]
    assert first.more
    assert first.total == len(whole)


def test_a_party_sees_only_the_cases_it_is_party_to(console: Console, sql: Any) -> None:
    admin = Actor("admin", "admin")
    candidates = [
        i.view.id
        for i in console.engine.inbox(admin, limit=1000).items
        if i.view.case.workflow == "rectification"
        and i.view.state in ("regularising", "merge_metering")
    ]
    assert len(candidates) >= 2
    chosen = candidates[0]
    sql(
        "INSERT INTO case_parties (case_id, party, relation) VALUES (:c, :p, 'named')",
        c=chosen,
        p="某某排污单位",
    )
    try:
        party = Actor("某某排污单位", "discharger")
        page = console.engine.inbox(party, limit=1000)
        assert [i.view.id for i in page.items] == [chosen]
        assert [t.trigger for t in page.items[0].triggers] == ["install_metering"] or [
            t.trigger for t in page.items[0].triggers
        ] == ["complete"]
        assert console.engine.inbox(Actor("别的单位", "discharger")).items == []
    finally:
        sql("DELETE FROM case_parties WHERE party = :p", p="某某排污单位")


def test_overdue_counts_follow_the_clock(console: Console) -> None:
    city = Actor("c", "eeb_city", "liaocheng")
    page = console.engine.inbox(city, limit=1000)
    assert page.overdue == 0
    due = [i.deadline.due_at for i in page.items if i.deadline is not None]
    start = console.clock.now()
    console.clock.set(min(due) + timedelta(days=1))
    try:
        late = console.engine.inbox(city, limit=1000)
        assert late.overdue == sum(1 for d in due if d <= console.clock.now()) >= 1
    finally:
        console.clock.set(start)


# -- the pages -----------------------------------------------------------------------------------


def test_the_inbox_page_shows_counts_rows_and_badges(console: Console) -> None:
    client = client_for(console, "dongchangfu.eeb")
    answer = client.get("/inbox")
    assert answer.status_code == 200
    html = answer.text
    expected = acting(console.engine, Actor("dongchangfu.eeb", "county_eeb", "dongchangfu"))
    assert sorted(listed(html)) == expected
    assert f"共 <strong>{len(expected)}</strong> 件" in html
    assert "逾期 <strong>0</strong> 件" in html
    assert 'class="badge green">剩余' in html or 'class="badge yellow">剩余' in html
    assert "东昌府区" in html
    assert "调查核实" in html or "群众举报" in html


def test_the_inbox_says_so_when_there_is_nothing_to_do(console: Console) -> None:
    answer = client_for(console, "approval").get("/inbox")
    assert answer.status_code == 200
    if not listed(answer.text):
        assert "当前没有需要您办理的案件" in answer.text


def test_the_inbox_without_a_session_sends_to_sign_in(console: Console) -> None:
    client = TestClient(console.app, base_url="http://127.0.0.1")
    answer = client.get("/inbox", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_the_case_list_filters_by_get_parameters(console: Console) -> None:
    client = client_for(console, "city.eeb")
    city = Actor("city.eeb", "eeb_city", "liaocheng")
    engine = console.engine

    def ids(**filters: Any) -> list[int]:
        return [v.id for v in engine.list_cases(city, limit=1000, **filters)]

    every = listed(client.get("/cases").text)
    assert every == ids(is_open=True)[:50]
    by_flow = listed(client.get("/cases?workflow=rectification").text)
    assert by_flow
    assert by_flow == ids(workflow="rectification", is_open=True)
    by_state = listed(client.get("/cases?workflow=rectification&state=regularising").text)
    assert by_state == ids(workflow="rectification", state="regularising", is_open=True)
    by_place = listed(client.get("/cases?jurisdiction=guanxian").text)
    assert by_place
    assert by_place == ids(jurisdiction="guanxian", is_open=True)
    closed = listed(client.get("/cases?open=false&workflow=responsibility").text)
    assert closed == ids(workflow="responsibility", is_open=False)[:50]
    subject = engine.list_cases(city, workflow="responsibility", is_open=True)[0].case.subject
    assert subject is not None
    assert listed(client.get(f"/cases?subject={subject}").text) == ids(
        subject=subject, is_open=True
    )
    now = engine.clock.now()
    assert listed(client.get("/cases?overdue=true").text) == []
    assert (
        listed(client.get("/cases?overdue=false").text)
        == ids(not_overdue_at=now, is_open=True)[:50]
    )
    assert client.get("/cases?overdue=maybe").status_code == 422


def test_the_case_list_keeps_to_the_read_scope(console: Console) -> None:
    client = client_for(console, "dongchangfu.eeb")
    rows = listed(client.get("/cases?open=all").text)
    assert rows
    for case_id in rows:
        assert console.engine.get_case(case_id).case.jurisdiction == "dongchangfu"
    assert listed(client.get("/cases?jurisdiction=guanxian").text) == []


def test_the_board_counts_by_county_and_workflow(console: Console) -> None:
    engine = console.engine
    start = console.clock.now()
    console.clock.set(start + timedelta(days=130))  # past the first rectification deadline
    try:
        html = client_for(console, "city.eeb").get("/board").text
        now = engine.clock.now()
        soon = soon_cutoff(engine.planner.calendar, now)
        city = Actor("city.eeb", "eeb_city", "liaocheng")
        expected: dict[tuple[str, str, str], int] = {}
        for view in engine.list_cases(city, is_open=True, limit=100_000):
            due = [t.due_at for t in view.timers if t.status == "pending"]
            colour = (
                "red"
                if due and min(due) <= now
                else "yellow"
                if due and min(due) < soon
                else "green"
            )
            key = (view.case.jurisdiction or "", view.case.workflow, colour)
            expected[key] = expected.get(key, 0) + 1
        found = {
            (j, w, c): int(n)
            for w, j, c, n in re.findall(
                r'<a href="/cases\?workflow=(\w+)&amp;jurisdiction=(\w+)&amp;overdue=\w+" '
                r'class="badge (\w+)"[^>]*>(\d+)</a>',
                html,
            )
        }
        assert found == expected
        assert any(c == "red" for _, _, c in found)
        assert "东昌府区" in html
        assert "冠县" in html
    finally:
        console.clock.set(start)


def test_a_county_clerk_may_not_open_the_board(console: Console) -> None:
    answer = client_for(console, "dongchangfu.eeb").get("/board")
    assert answer.status_code == 403
    assert "督办看板仅对市级及以上主管部门开放" in answer.text
    assert "<html" in answer.text


def test_the_province_and_the_admin_see_the_board(console: Console) -> None:
    for who in ("province.eeb", "admin"):
        answer = client_for(console, who).get("/board")
        assert answer.status_code == 200
        assert "督办看板" in answer.text


def test_a_cursor_past_any_case_number_is_a_page_not_a_500(console: Console) -> None:
    client = client_for(console, "city.eeb")
    answer = client.get("/cases?after=9223372036854775808")
    assert answer.status_code == 422
    assert "无法完成" in answer.text
