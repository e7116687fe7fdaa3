"""Who may see and change what, over HTTP with the shipped Liaocheng flows (issue 13): read
access by role × jurisdiction × relation, the reporter's identity, guards on the stored case,
handler-owned fields, writes that stay in their county, conflicts that reveal nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.domain import load_domain
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from handlers.ledger.idcard import build_card
from tests.attachkit import png, png_file
from tests.conftest import ROOT
from tests.handlers.flows.support import ledger_record, outfall, seed_ledger

Headers = dict[str, str]
REPORTER = {"name": "王先生", "phone": "13800000000"}
PHONE = REPORTER["phone"]

WHO = {
    # name, role, jurisdiction
    "zhang": ("市民张三", "public", "donge"),
    "li": ("市民李四", "public", "donge"),
    "county": ("东阿县生态环境分局", "county_eeb", "donge"),
    "other_county": ("茌平区生态环境分局", "county_eeb", "chiping"),
    "city": ("聊城市生态环境局", "eeb_city", "liaocheng"),
    "housing": ("聊城市住房城乡建设局", "housing_city", "liaocheng"),
    "discharger": ("东阿县某化工公司", "discharger", "donge"),
    "admin": ("管理员", "admin", None),
}


@pytest.fixture
def house(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows", ROOT / "tests" / "fixtures" / "core" / "complaint.yaml"])
    return engine


@pytest.fixture
def client(house: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(house, load_domain("handlers"))) as test_client:
        yield test_client


@pytest.fixture
def as_(house: Engine) -> dict[str, Headers]:
    out = {}
    for key, (name, role, jurisdiction) in WHO.items():
        _, secret = create_token(house, name, role, jurisdiction)
        out[key] = {"Authorization": f"Bearer {secret}"}
    return out


def report(**fields: Any) -> dict[str, Any]:
    return {
        "workflow": "public_report",
        "data": {
            "channel": "snapshot",
            "reporter": dict(REPORTER),
            "county": "donge",
            "longitude": 116.25,
            "latitude": 36.33,
            "photos": ["photos/0001.jpg"],
            "description": "河边有一根管子在排黑水",
            "sub_type": "industrial_enterprise",
            **fields,
        },
    }


def with_photo(client: TestClient, who: Headers, body: dict[str, Any]) -> dict[str, Any]:
    """A report's ``body`` with its photo uploaded by ``who`` first, as a reporter does."""
    if body["workflow"] != "public_report":
        return body
    answer = client.post(
        "/api/v1/workflows/public_report/attachments",
        files={"file": ("0001.png", png(), "image/png")},
        data={"field": "photos"},
        headers=who,
    )
    assert answer.status_code == 201, answer.text
    return {**body, "data": {**body["data"], "photos": [answer.json()]}}


def opened(client: TestClient, who: Headers, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/v1/cases", json=with_photo(client, who, body), headers=who)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def fire(client: TestClient, who: Headers, case_id: int, trigger: str, **payload: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"trigger": trigger, "payload": payload},
        headers=who,
    )


def listed(client: TestClient, who: Headers, **query: str) -> list[int]:
    answer = client.get("/api/v1/cases", params=query, headers=who)
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def history_text(client: TestClient, who: Headers, case_id: int) -> str:
    answer = client.get(f"/api/v1/cases/{case_id}/history", headers=who)
    assert answer.status_code == 200, answer.text
    return answer.text


# -- reading ignores roles (today) ----------------------------------------------------------


def test_a_public_token_sees_its_own_reports_and_nothing_else(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    mine = opened(client, as_["zhang"], report())
    complaint = opened(
        client,
        as_["county"],
        {"workflow": "complaint", "data": {"county": "donge", "severity": "major"}},
    )
    assert listed(client, as_["zhang"]) == [mine["id"]]
    own = client.get(f"/api/v1/cases/{mine['id']}", headers=as_["zhang"]).json()
    assert own["data"]["reporter"] == REPORTER  # it gave them
    assert listed(client, as_["li"]) == []
    for path in ("", "/history", "/timers"):
        answer = client.get(f"/api/v1/cases/{mine['id']}{path}", headers=as_["li"])
        assert answer.status_code == 404, (path, answer.text)
        assert PHONE not in answer.text
    assert client.get(f"/api/v1/cases/{complaint['id']}", headers=as_["zhang"]).status_code == 404


def test_a_discharger_sees_the_cases_it_is_party_to_and_not_the_reports_against_it(
    house: Engine, client: TestClient, as_: dict[str, Headers]
) -> None:
    seed_ledger(house, outfall("371524-0001"), outfall("371524-0002"))
    named = opened(
        client,
        as_["county"],
        {
            "workflow": "enforcement",
            "data": {
                "source": "violation",
                "county": "donge",
                "violation_type": "secret_discharge",
                "units": [{"name": "东阿县某化工公司", "main": True}],
            },
        },
    )
    other = opened(
        client,
        as_["county"],
        {
            "workflow": "enforcement",
            "data": {
                "source": "violation",
                "county": "donge",
                "violation_type": "secret_discharge",
                "units": [{"name": "另一家公司"}],
            },
        },
    )
    tip = opened(client, as_["zhang"], report())
    assert listed(client, as_["discharger"]) == [named["id"]]
    for case_id in (other["id"], tip["id"]):
        assert client.get(f"/api/v1/cases/{case_id}", headers=as_["discharger"]).status_code == 404
    # the ledger: only the outfalls it answers for
    with house.store.write() as tx:
        record = outfall("371524-0003", responsible_party="东阿县某化工公司")
        tx.put_subject("outfall", record["code"], record, "donge", house.clock.now())
    outfalls = client.get("/api/v1/outfalls", headers=as_["discharger"]).json()
    assert [o["code"] for o in outfalls["items"]] == ["371524-0003"]
    assert outfalls["total"] == 1
    assert client.get("/api/v1/outfalls/371524-0001", headers=as_["discharger"]).status_code == 404


def test_the_reporters_identity_reaches_only_the_receiving_desk(
    house: Engine, client: TestClient, as_: dict[str, Headers]
) -> None:
    case = opened(client, as_["zhang"], report())
    for desk in ("county", "city"):
        seen = client.get(f"/api/v1/cases/{case['id']}", headers=as_[desk]).json()
        assert seen["data"]["reporter"] == REPORTER, desk
        assert PHONE in history_text(client, as_[desk], case["id"])
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=as_["housing"]).json()
    assert "reporter" not in seen["data"]
    assert seen["redacted"] == ["reporter"]
    assert seen["data"]["description"] == "河边有一根管子在排黑水"  # the rest is there
    assert PHONE not in history_text(client, as_["housing"], case["id"])
    listing = client.get("/api/v1/cases", headers=as_["housing"]).text
    assert PHONE not in listing
    assert "王先生" not in listing
    # at rest: sealed in the case row and in the history, never in plaintext
    with house.store.read() as tx:
        row = tx.get_case(case["id"])
        assert row is not None
        assert str(row.data["reporter"]).startswith("sealed:v1:")
        assert all(PHONE not in str(e.patch) + str(e.payload) for e in tx.events(case["id"]))


def test_an_anonymous_report_shows_no_identity_but_to_the_city_desk(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = opened(client, as_["zhang"], report(reporter={**REPORTER, "anonymous": True}))
    city = client.get(f"/api/v1/cases/{case['id']}", headers=as_["city"]).json()
    assert city["data"]["reporter"]["phone"] == PHONE
    for who in ("county", "housing"):
        seen = client.get(f"/api/v1/cases/{case['id']}", headers=as_[who])
        assert PHONE not in seen.text, who
        assert "王先生" not in seen.text, who
        assert PHONE not in history_text(client, as_[who], case["id"]), who


def test_the_cli_redacts_as_the_api_does(run: Any, tmp_path: Path) -> None:
    run("load", str(ROOT / "workflows"))
    public = ("--as", "public", "--actor", "市民张三", "--jurisdiction", "donge")
    photo = json.loads(
        run("case", "attach", "public_report", "photos", png_file(tmp_path), *public)
    )
    data = json.dumps(report(reporter={**REPORTER, "anonymous": True}, photos=[photo])["data"])
    created = json.loads(run("case", "create", "public_report", "--data", data, *public))
    county = ("--as", "county_eeb", "--jurisdiction", "donge")
    for command in ("show", "history"):
        out = run("case", command, str(created["id"]), *county)
        assert PHONE not in out, command
        assert "王先生" not in out, command
    assert PHONE in run("case", "show", str(created["id"]), "--as", "eeb_city")


# -- a payload can satisfy a `when` (today) --------------------------------------------------


def test_a_payload_cannot_satisfy_nor_rewrite_what_a_when_judges(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    major = opened(
        client,
        as_["county"],
        {"workflow": "complaint", "data": {"county": "donge", "severity": "major"}},
    )
    seen = client.get(f"/api/v1/cases/{major['id']}", headers=as_["county"]).json()
    assert seen["available_triggers"] == ["annotate"]  # exactly what it may fire now
    refused = fire(client, as_["county"], major["id"], "close_by_county", severity="normal")
    assert refused.status_code == 409, refused.text
    assert refused.json()["allowed_triggers"] == ["annotate"]
    still = client.get(f"/api/v1/cases/{major['id']}", headers=as_["city"]).json()
    assert still["data"]["severity"] == "major"
    assert still["state"] == "open"

    normal = opened(
        client,
        as_["county"],
        {"workflow": "complaint", "data": {"county": "donge", "severity": "normal"}},
    )
    rewrite = fire(client, as_["county"], normal["id"], "close_by_county", severity="major")
    assert rewrite.status_code == 422, rewrite.text
    assert rewrite.json()["errors"][0]["json_path"] == "$.payload.severity"
    assert fire(client, as_["county"], normal["id"], "close_by_county").status_code == 200


def test_validate_refuses_a_merged_payload_that_writes_what_its_when_reads(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    text = (ROOT / "tests" / "fixtures" / "core" / "complaint.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    payload_schema: {type: object}\n    when:",
        "    payload_schema: {type: object, properties: {severity: {enum: [normal, major]}}}\n"
        "    when:",
    )
    answer = client.post(
        "/api/v1/workflows/validate",
        content=text.encode("utf-8"),
        headers={**as_["admin"], "Content-Type": "application/yaml"},
    )
    assert answer.json()["valid"] is False
    problems = answer.json()["errors"]
    assert any("would overwrite 'severity'" in p["message"] for p in problems), problems


def test_offered_triggers_are_the_ones_the_guards_allow(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = opened(client, as_["zhang"], report())  # industrial: the city bureau investigates
    as_urban = client.get(f"/api/v1/cases/{case['id']}", headers=as_["housing"]).json()
    assert "start_investigation" not in as_urban["available_triggers"]
    as_city = client.get(f"/api/v1/cases/{case['id']}", headers=as_["city"]).json()
    assert "start_investigation" in as_city["available_triggers"]


# -- callers preset fields that handlers own (today) -----------------------------------------


def test_callers_cannot_preset_what_handlers_own_nor_act_on_anothers_report(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    preset = client.post(
        "/api/v1/cases",
        json=with_photo(
            client, as_["zhang"], report(responsibility_case_id=1, enforcement_case_id=2)
        ),
        headers=as_["zhang"],
    )
    assert preset.status_code == 422, preset.text
    paths = [e["json_path"] for e in preset.json()["errors"]]
    assert paths == ["$.data.enforcement_case_id", "$.data.responsibility_case_id"]
    case = opened(client, as_["zhang"], report())
    assert fire(client, as_["li"], case["id"], "reply", reply="x").status_code == 404


# -- writes leave their jurisdiction (today) -------------------------------------------------


def test_a_countys_handlers_cannot_touch_another_countys_ledger(
    house: Engine, client: TestClient, as_: dict[str, Headers]
) -> None:
    seed_ledger(house, outfall("371503-0009", county="chiping", responsible_party="原单位"))
    seed_ledger(house, outfall("371524-0009", county="donge", responsible_party="原单位"))
    data = {"outfall_code": "371503-0009", "county": "donge", "sub_type": "industrial_enterprise"}
    for workflow in ("responsibility", "rectification"):  # a case about another county's code
        refused = client.post(
            "/api/v1/cases", json={"workflow": workflow, "data": data}, headers=as_["county"]
        )
        assert refused.status_code == 422, refused.text
        assert [e["json_path"] for e in refused.json()["errors"]] == ["$.data.outfall_code"]
        assert "chiping" not in refused.text  # where it lies is not said
    own = {**data, "outfall_code": "371524-0009"}
    case = opened(client, as_["county"], {"workflow": "responsibility", "data": own})
    fire(client, as_["county"], case["id"], "identify", responsible_party="本县单位")
    assert (ledger_record(house, "371524-0009") or {})["responsible_party"] == "本县单位"
    record = ledger_record(house, "371503-0009")
    assert record is not None
    assert record["responsible_party"] == "原单位"

    tip = opened(client, as_["zhang"], report())
    assert fire(client, as_["city"], tip["id"], "start_investigation").status_code == 200
    founded = fire(
        client, as_["city"], tip["id"], "conclude_founded", finding="属实", found=["new_outfall"]
    )
    assert founded.status_code == 200, founded.text
    planted = fire(
        client,
        as_["county"],
        tip["id"],
        "register_outfall",
        outfall={
            "code": "371503-0777",
            "name": "新口",
            "sub_type": "industrial_enterprise",
            "river": "tuhaihe",
            "county": "chiping",
        },
    )
    assert planted.status_code == 422, planted.text
    assert planted.json()["errors"][0]["json_path"] == "$.payload.outfall.county"
    assert ledger_record(house, "371503-0777") is None


def test_an_unknown_jurisdiction_is_refused_at_its_path(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    body = with_photo(client, as_["admin"], report(county="atlantis"))
    answer = client.post("/api/v1/cases", json=body, headers=as_["admin"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["json_path"] == "$.data.county"


def test_a_payload_cannot_move_a_case_to_another_county(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = opened(
        client,
        as_["county"],
        {"workflow": "complaint", "data": {"county": "donge", "severity": "major"}},
    )
    moved = fire(client, as_["county"], case["id"], "annotate", county="chiping")
    assert moved.status_code == 422, moved.text
    assert moved.json()["errors"][0]["json_path"] == "$.payload.county"


# -- subjects cross jurisdictions (today) ----------------------------------------------------


def test_subjects_are_per_county_and_a_conflict_reveals_no_invisible_case(
    house: Engine, client: TestClient, as_: dict[str, Headers]
) -> None:
    code = "371524-0100"  # not in the ledger yet: any county may open a case about it

    def rectify(who: str, county: str) -> Any:
        data = {"outfall_code": code, "sub_type": "industrial_enterprise", "county": county}
        body = {"workflow": "rectification", "data": data, "subject": code}
        return client.post("/api/v1/cases", json=body, headers=as_[who])

    donge = rectify("county", "donge")
    assert donge.status_code == 201, donge.text
    # another county's case with the same business key is not blocked by it
    chiping = rectify("other_county", "chiping")
    assert chiping.status_code == 201, chiping.text
    # a party that may not read the open case learns only that there is one
    dup = rectify("discharger", "donge")
    assert dup.status_code == 409, dup.text
    assert "existing_case_id" not in dup.json()
    assert f"case {donge.json()['id']} " not in dup.json()["detail"]
    again = rectify("county", "donge")
    assert again.json()["existing_case_id"] == donge.json()["id"]


def test_an_outfalls_card_lists_only_the_cases_its_reader_may_read(
    house: Engine, client: TestClient, as_: dict[str, Headers]
) -> None:
    code = "371524-0200"
    data = {"outfall_code": code, "sub_type": "industrial_enterprise"}
    ids = {}
    for who, county in (("county", "donge"), ("other_county", "chiping")):  # before the record
        body = {"workflow": "rectification", "data": {**data, "county": county}, "subject": code}
        answer = client.post("/api/v1/cases", json=body, headers=as_[who])
        assert answer.status_code == 201, answer.text
        ids[county] = answer.json()["id"]
    seed_ledger(house, outfall(code))
    seen = client.get(f"/api/v1/outfalls/{code}", headers=as_["county"]).json()
    assert ids["donge"] in [c["id"] for c in seen["cases"]]
    assert ids["chiping"] not in [c["id"] for c in seen["cases"]]
    card = build_card(Ledger(house), code, "http://x", actor=_actor("county"))
    assert ids["chiping"] not in [h.case.id for h in card.histories]
    assert {h.case.jurisdiction for h in card.histories} == {"donge"}


def _actor(key: str) -> Actor:
    name, role, jurisdiction = WHO[key]
    return Actor(name, role, jurisdiction)
