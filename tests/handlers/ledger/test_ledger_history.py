"""Ledger edits are history: every change the ledger service makes to an outfall record (add,
PATCH, import) is a row of the outfall's history in the same transaction, chained into the same
keyed global sequence as case events, readable as the record is (``GET
/api/v1/outfalls/{code}/history``, ``qingliu ledger history``) and covered by the audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.domain import load_domain
from engine.errors import InvalidInput
from engine.handlers import Actor
from engine.history import apply_patch
from engine.runtime import Engine
from engine.store.tables import subject_events
from handlers.ledger import Ledger
from handlers.ledger.io import import_file
from tests.conftest import ROOT, START, Run
from tests.engine.api.helpers import problem
from tests.handlers.conftest import Record
from tests.handlers.flows.support import outfall, seed_ledger

Headers = dict[str, str]
CODE = "371502-0001"


@pytest.fixture
def client(loaded: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(loaded, load_domain("handlers"))) as test_client:
        yield test_client


@pytest.fixture
def tokens(loaded: Engine) -> dict[str, Headers]:
    def make(name: str, role: str, jurisdiction: str | None = None) -> Headers:
        _, secret = create_token(loaded, name, role, jurisdiction)
        return {"Authorization": f"Bearer {secret}"}

    return {
        "city": make("市生态环境局", "eeb_city", "liaocheng"),
        "dongchangfu": make("东昌府区分局", "county_eeb", "dongchangfu"),
        "yanggu": make("阳谷县分局", "county_eeb", "yanggu"),
    }


def test_an_add_and_a_patch_over_http_are_the_outfalls_history(
    client: TestClient, tokens: dict[str, Headers], record: Record, loaded: Engine
) -> None:
    added = client.post("/api/v1/outfalls", json=record(), headers=tokens["city"])
    assert added.status_code == 201, added.text
    changed = client.patch(
        f"/api/v1/outfalls/{CODE}", json={"address": "新址"}, headers=tokens["dongchangfu"]
    )
    assert changed.status_code == 200, changed.text
    unchanged = client.patch(
        f"/api/v1/outfalls/{CODE}", json={"address": "新址"}, headers=tokens["dongchangfu"]
    )
    assert unchanged.status_code == 200  # nothing changed: no history row

    response = client.get(f"/api/v1/outfalls/{CODE}/history", headers=tokens["dongchangfu"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == CODE
    first, second = body["items"]
    assert (first["seq"], first["change"], first["actor"], first["role"]) == (
        1,
        "created",
        "市生态环境局",
        "eeb_city",
    )
    assert first["patch"]["set"]["name"] == record()["name"]
    assert second == {
        "seq": 2,
        "change": "updated",
        "actor": "东昌府区分局",
        "role": "county_eeb",
        "jurisdiction": "dongchangfu",
        "patch": {"set": {"address": "新址"}},
        "at": START.isoformat(),
        "gseq": second["gseq"],
    }
    # the record is the fold of its history
    folded = apply_patch(apply_patch({}, first["patch"]), second["patch"])
    assert folded == Ledger(loaded).get(CODE).record
    # one sequence with the case events: the outfall's responsibility case came in between
    assert second["gseq"] > first["gseq"] + 1
    assert loaded.verify_audit() == []


def test_the_history_is_read_as_the_outfall_is(
    client: TestClient, tokens: dict[str, Headers], record: Record
) -> None:
    assert client.post("/api/v1/outfalls", json=record(), headers=tokens["city"]).status_code == 201
    assert client.get(f"/api/v1/outfalls/{CODE}/history", headers=tokens["city"]).status_code == 200
    problem(client.get(f"/api/v1/outfalls/{CODE}/history"), 401, "unauthorized")
    problem(
        client.get(f"/api/v1/outfalls/{CODE}/history", headers=tokens["yanggu"]), 404, "not-found"
    )
    problem(
        client.get("/api/v1/outfalls/371502-0404/history", headers=tokens["city"]),
        404,
        "not-found",
    )
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/outfalls/{code}/history"]) == {"get"}


def test_an_import_writes_history_and_a_row_rolled_back_leaves_none(
    ledger: Ledger, admin: Actor, record: Record, tmp_path: Path
) -> None:
    source = tmp_path / "ledger.csv"
    source.write_text(
        "编码,名称,排污口类型,所在县区,受纳水体\n"
        f"{CODE},东昌府区1号排污口,工矿企业排污口,东昌府区,徒骇河\n",
        encoding="utf-8-sig",
    )
    import_file(ledger, source, admin)
    source.write_text(
        "编码,名称,排污口类型,所在县区,受纳水体\n"
        f"{CODE},东昌府区1号排污口（改名）,工矿企业排污口,东昌府区,徒骇河\n",
        encoding="utf-8-sig",
    )
    import_file(ledger, source, admin)
    changes = ledger.history(CODE)
    assert [(c.seq, c.change, c.actor) for c in changes] == [
        (1, "created", admin.name),
        (2, "updated", admin.name),
    ]
    assert changes[1].patch == {"set": {"name": "东昌府区1号排污口（改名）"}}

    engine = ledger.engine
    with engine.transaction(admin) as (tx, ops):  # a savepoint undone takes its history along

        def change_then_fail() -> None:
            with tx.savepoint():
                ledger.update_in(tx, ops, CODE, {"address": "不算数"}, admin)
                raise InvalidInput("data", [])

        with pytest.raises(InvalidInput):
            change_then_fail()
        ledger.update_in(tx, ops, CODE, {"address": "算数"}, admin)
    assert [c.patch for c in ledger.history(CODE)][2:] == [{"set": {"address": "算数"}}]
    assert engine.verify_audit() == []


def test_a_ledger_change_edited_or_deleted_behind_the_engine_is_reported(
    ledger: Ledger, city: Actor, record: Record
) -> None:
    ledger.add(record(), city)
    ledger.update(CODE, {"address": "新址"}, city)
    ledger.update(CODE, {"address": "又一新址"}, city)
    engine = ledger.engine
    with engine.store.read() as tx:
        second = tx.subject_events("outfall", CODE)[1]
    with engine.store.write() as tx:
        tx.conn.execute(
            update(subject_events)
            .where(subject_events.c.id == second.id)
            .values(patch={"set": {"address": "别处"}})
        )
    assert engine.verify_audit() == [
        f"history: global event {second.gseq} (outfall {CODE} change 2) does not match its "
        "keyed link: it was rewritten without the key"
    ]
    with engine.store.write() as tx:
        tx.conn.execute(delete(subject_events).where(subject_events.c.id == second.id))
        gone = tx.conn.execute(select(subject_events.c.id)).scalars().all()
    assert len(gone) == 2
    assert engine.verify_audit() == [f"outfall {CODE}: change 2 is missing (found 3)"]


def test_ledger_history_on_the_command_line(run: Run) -> None:
    run("load", "workflows/responsibility.yaml", "workflows/rectification.yaml")
    run(
        "ledger",
        "add",
        '{"code":"371502-0001","name":"东昌府区1号排污口","sub_type":"industrial_enterprise",'
        '"county":"dongchangfu","river":"tuhaihe"}',
        "--actor",
        "台账员",
    )
    lines = run("ledger", "history", CODE).splitlines()
    assert len(lines) == 1
    assert "created" in lines[0]
    assert "台账员（admin）: " in lines[0]  # built-in roles have no title in roles.yaml
    assert {"code", "county", "name"} <= set(lines[0].split(": ", 1)[1].split(", "))
    assert "not found" in run("ledger", "history", "371502-9999", code=3)
    assert "every chain verified" in run("audit", "verify")


def test_a_flows_change_to_an_outfall_is_a_row_of_its_history(engine: Engine) -> None:
    """Handlers change records too (rectification marks the outfall in progress, its
    de-listing marks it done): each change names the actor who fired, as ledger edits do."""
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in ["rectification", "escalation"]])
    code = "371524-0020"
    seed_ledger(engine, outfall(code))  # written below the ledger: no history of its own
    county = Actor("东阿县生态环境分局", "county_eeb", "donge")
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    engine.create_case("rectification", {**body, "river": "huanghe"}, county, subject=code)

    changes = Ledger(engine).history(code)
    assert [(c.seq, c.change, c.actor, c.role, c.jurisdiction) for c in changes] == [
        (1, "updated", county.name, "county_eeb", "donge")
    ]
    assert changes[0].patch == {"set": {"rectification_status": "in_progress"}}
    assert engine.verify_audit() == []
