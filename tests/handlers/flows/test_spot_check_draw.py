"""The city's 双随机 draw cannot be steered and does not leak (issue 15, item 3).

No caller input chooses the randomness: the system makes a secret when it draws, commits to it
and to the pool in the case, and reveals it after the inspection, so anyone can re-check the
draw; the inspected county does not see the targets (nor the inspection day) before that day;
what will be published (一公开) is recorded when the city reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.errors import FieldError, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

COUNTY = Actor("东阿县生态环境分局", "county_eeb", "donge")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
ADMIN = Actor("test-admin", "admin")
INSPECTORS = ["张伟", "王芳", "李娜", "刘洋"]
INSPECTION = "2024-03-08"  # a week after the tests' clock starts (2024-03-01)
ON_THE_DAY = datetime(2024, 3, 7, 16, 0, tzinfo=UTC)  # 00:00 of 2024-03-08 in Shanghai
DRAW = {"inspectors": INSPECTORS, "inspection_date": INSPECTION}
CODES = [f"371524-{i:04d}" for i in range(30)]


@pytest.fixture
def county_ledger(engine: Engine) -> list[str]:
    engine.load([ROOT / "workflows"])
    kinds = ("industrial_enterprise", "urban_wwtp", "enterprise_storm")
    seed_ledger(
        engine,
        *(outfall(code, "donge", sub_type=kinds[i % 3]) for i, code in enumerate(CODES)),
        outfall("371521-0001", "dongchangfu"),
    )
    return CODES


def _awaiting_draw(engine: Engine) -> int:
    case = engine.create_case(
        "effectiveness_check", {"county": "donge", "year": 2024}, COUNTY, subject="donge:2024"
    )
    engine.fire(case.id, "submit_plan", COUNTY, {"plan": {"summary": "每季度自查一轮"}})
    engine.fire(case.id, "report_self_check", COUNTY, {"results": []})
    return case.id


def _results(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first, *rest = [t["outfall_code"] for t in targets]
    return [{"outfall_code": first, "passed": False, "finding": "晴天排水"}] + [
        {"outfall_code": c, "passed": True} for c in rest
    ]


def _drawn_and_reported(engine: Engine, clock: FakeClock) -> tuple[int, dict[str, Any]]:
    case_id = _awaiting_draw(engine)
    engine.fire(case_id, "draw_sample", CITY, DRAW)
    targets = engine.get_case(case_id, CITY).data["spot_check_targets"]
    clock.set(ON_THE_DAY)
    view = engine.fire(case_id, "report_spot_check", CITY, {"results": _results(targets)})
    return case_id, view.data["publication"]


# -- no caller input steers the draw -----------------------------------------------------------


def test_a_seed_or_a_ratio_in_the_draw_payload_is_refused(
    engine: Engine, county_ledger: list[str]
) -> None:
    case_id = _awaiting_draw(engine)
    for extra in ({"seed": 42}, {"ratio": 1}):
        with pytest.raises(InvalidInput) as refused:
            engine.fire(case_id, "draw_sample", CITY, {**DRAW, **extra})
        (name,) = extra
        assert refused.value.errors == [
            FieldError("$", f"Additional properties are not allowed ({name!r} was unexpected)")
        ]
    assert engine.get_case(case_id).state == "awaiting_spot_check"


def test_an_inspection_day_in_the_past_is_refused_at_its_path(
    engine: Engine, county_ledger: list[str]
) -> None:
    case_id = _awaiting_draw(engine)
    with pytest.raises(InvalidInput) as refused:
        engine.fire(case_id, "draw_sample", CITY, {**DRAW, "inspection_date": "2024-02-29"})
    assert [(e.json_path, e.message) for e in refused.value.errors] == [
        ("$.inspection_date", "the inspection day 2024-02-29 is before today (2024-03-01)")
    ]
    assert engine.get_case(case_id).state == "awaiting_spot_check"


def test_the_draw_commits_to_the_pool_and_a_secret_no_one_reads_before_the_reveal(
    engine: Engine, county_ledger: list[str]
) -> None:
    from handlers.sampling.commit import pool_digest

    case_id = _awaiting_draw(engine)
    view = engine.fire(case_id, "draw_sample", CITY, DRAW)
    record = view.data["spot_check"]
    assert record["commitment"]["pool_sha256"] == pool_digest(county_ledger)
    assert len(record["commitment"]["secret_sha256"]) == 64
    assert "seed" not in record
    assert "secret" not in record
    for reader in (CITY, COUNTY, ADMIN):
        seen = engine.get_case(case_id, reader)
        assert "draw_secret" not in seen.data
        assert "draw_secret" in seen.hidden
        history = engine.history(case_id, reader)
        assert "draw_secret" not in str([(e.payload, e.patch) for e in history])
    # the secret is sealed at rest: its plaintext is in no row
    with engine.store.read() as tx:
        stored = tx.get_case(case_id).data
    assert str(stored["draw_secret"]).startswith("sealed:v1:")


def test_a_failed_draw_does_not_depend_on_the_secret(
    engine: Engine, county_ledger: list[str]
) -> None:
    """A refusal that named a drawn outfall would let the drawer retry until a target it does
    not want is gone: every outfall of the pool is checked before anything is drawn."""
    from handlers.sampling.draw import SamplingError, draw_sample

    pool = [{"code": c, "sub_type": "urban_wwtp"} for c in CODES]
    conflicts = {"王芳": [CODES[-1]]}
    for secret in ("00" * 32, "ff" * 32, "5a" * 32):
        with pytest.raises(SamplingError, match=f"outfall {CODES[-1]}: only 1 inspector"):
            draw_sample(pool, ["张伟", "王芳"], secret, 0.05, {}, conflicts=conflicts)


# -- anyone can re-check the draw after the reveal -----------------------------------------------


def test_the_same_pool_and_secret_give_the_same_draw_and_it_verifies(
    engine: Engine, clock: FakeClock, county_ledger: list[str]
) -> None:
    from handlers.sampling.commit import secret_digest, verify_draw

    case_id, publication = _drawn_and_reported(engine, clock)
    view = engine.get_case(case_id, COUNTY)
    assert view.state == "provincial_verification"
    targets = view.data["spot_check_targets"]
    assert publication["targets"] == targets
    assert publication["results"] == _results(targets)
    assert publication["published_on"] == INSPECTION
    assert publication["inspection_date"] == INSPECTION
    assert publication["commitment"] == view.data["spot_check"]["commitment"]
    assert secret_digest(publication["secret"]) == publication["commitment"]["secret_sha256"]
    assert view.data["spot_check"]["secret"] == publication["secret"]  # revealed in the data
    checked = verify_draw(publication)
    assert checked.problems == []
    assert checked.ok
    assert checked.targets == targets


def test_a_tampered_draw_fails_verification(
    engine: Engine, clock: FakeClock, county_ledger: list[str]
) -> None:
    from handlers.sampling.commit import verify_draw

    _, publication = _drawn_and_reported(engine, clock)
    drawn = {t["outfall_code"] for t in publication["targets"]}
    spare = next(c for c in county_ledger if c not in drawn)

    swapped = json.loads(json.dumps(publication))
    swapped["targets"][0]["outfall_code"] = spare
    checked = verify_draw(swapped)
    assert not checked.ok
    assert checked.problems == ["the recorded targets are not the ones the secret draws"]

    other_secret = {**publication, "secret": "00" * 32}
    assert verify_draw(other_secret).problems == [
        "the revealed secret does not match the commitment",
        "the recorded targets are not the ones the secret draws",
    ]
    smaller_pool = {**publication, "pool": publication["pool"][1:]}
    assert "the pool does not match the commitment" in verify_draw(smaller_pool).problems
    unrevealed = {k: v for k, v in publication.items() if k != "secret"}
    assert verify_draw(unrevealed).problems == ["the secret is not revealed yet"]


def test_qingliu_sample_verify_rechecks_a_case_or_a_published_record(
    engine: Engine,
    clock: FakeClock,
    county_ledger: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from handlers.sampling.cli import sample_group

    monkeypatch.setenv("QINGLIU_DATABASE_URL", database_url)
    monkeypatch.setenv("QINGLIU_CONFIG", str(ROOT / "config"))
    runner = CliRunner()
    case_id = _awaiting_draw(engine)
    engine.fire(case_id, "draw_sample", CITY, DRAW)
    early = runner.invoke(sample_group, ["verify", str(case_id)])
    assert early.exit_code == 1, early.output
    assert "not revealed yet" in early.output

    targets = engine.get_case(case_id, CITY).data["spot_check_targets"]
    clock.set(ON_THE_DAY)
    engine.fire(case_id, "report_spot_check", CITY, {"results": _results(targets)})
    done = runner.invoke(sample_group, ["verify", str(case_id)])
    assert done.exit_code == 0, done.output
    assert f"case {case_id}: the draw verifies" in done.output

    publication = engine.get_case(case_id).data["publication"]
    publication["targets"] = list(reversed(publication["targets"]))
    if len(targets) == 1:
        publication["targets"][0]["inspectors"] = ["张伟", "刘洋", "李娜"]
    path = tmp_path / "publication.json"
    path.write_text(json.dumps(publication, ensure_ascii=False), encoding="utf-8")
    tampered = runner.invoke(sample_group, ["verify", "--file", str(path)])
    assert tampered.exit_code == 1, tampered.output
    assert "the recorded targets are not the ones the secret draws" in tampered.output
    missing = runner.invoke(sample_group, ["verify"])
    assert missing.exit_code == 2
    assert "give a CASE_ID or --file" in missing.output


# -- the targets stay hidden from the inspected county until the inspection day ------------------


@pytest.fixture
def client(engine: Engine, county_ledger: list[str]) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def _headers(engine: Engine, actor: Actor) -> dict[str, str]:
    _, secret = create_token(engine, actor.name, actor.role, actor.jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


def test_the_inspected_county_sees_the_targets_only_from_the_inspection_day(
    client: TestClient, engine: Engine, clock: FakeClock
) -> None:
    city = _headers(engine, CITY)
    counties = [
        _headers(engine, COUNTY),
        _headers(engine, Actor("东阿县人民政府", "county_gov", "donge")),
    ]
    case_id = _awaiting_draw(engine)
    drawn = client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"trigger": "draw_sample", "payload": DRAW},
        headers=city,
    )
    assert drawn.status_code == 200, drawn.text
    path = f"/api/v1/cases/{case_id}"

    def seen(headers: dict[str, str]) -> tuple[dict[str, Any], str]:
        case = client.get(path, headers=headers).json()
        history = client.get(f"{path}/history", headers=headers).json()["items"]
        return case, json.dumps([(e["patch"], e["payload"]) for e in history], ensure_ascii=False)

    case, history = seen(city)
    targets = case["data"]["spot_check_targets"]
    assert targets
    assert case["data"]["inspection_date"] == INSPECTION
    assert all(len(t["inspectors"]) == 2 for t in targets)
    for headers in counties:
        case, history = seen(headers)
        assert "spot_check_targets" not in case["data"]
        assert "targets" not in case["data"]["spot_check"]
        assert "inspection_date" not in case["data"]
        assert {"spot_check_targets", "inspection_date"} <= set(case["redacted"])
        assert "outfall_code" not in history  # the targets' key: the pool has "code"
        assert INSPECTION not in history
        assert "spot_check_targets" not in history

    clock.set(datetime(2024, 3, 7, 15, 59, tzinfo=UTC))  # 23:59 the day before, in Shanghai
    assert "spot_check_targets" not in seen(counties[0])[0]["data"]
    clock.set(ON_THE_DAY)
    for headers in counties:
        case, history = seen(headers)
        assert case["data"]["spot_check_targets"] == targets
        assert case["data"]["inspection_date"] == INSPECTION
        assert case["redacted"] == ["draw_secret"]
        assert "spot_check_targets" in history


def test_results_are_not_reported_before_the_inspection_day(
    engine: Engine, clock: FakeClock, county_ledger: list[str]
) -> None:
    case_id = _awaiting_draw(engine)
    engine.fire(case_id, "draw_sample", CITY, DRAW)
    targets = engine.get_case(case_id, CITY).data["spot_check_targets"]
    assert "report_spot_check" not in engine.available_triggers(case_id, CITY)
    with pytest.raises(Refused, match=f"the inspection is on {INSPECTION}"):
        engine.fire(case_id, "report_spot_check", CITY, {"results": _results(targets)})
    assert "publication" not in engine.get_case(case_id, CITY).data
    clock.set(ON_THE_DAY)
    assert "report_spot_check" in engine.available_triggers(case_id, CITY)
