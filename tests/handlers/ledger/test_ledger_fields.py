"""The national rules' fields of a ledger record (issue 19): the supervising department's
reference check, the Chinese labels and the ``limits`` cell in files (round trip, row errors),
and what the ID card, the CLI and the API show."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.domain import load_domain
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from handlers.ledger import Ledger
from handlers.ledger.fields import format_limits, parse_limits
from handlers.ledger.idcard import build_card, render_html
from handlers.ledger.io import ImportFailed, export_file, import_file
from handlers.ledger.record import InvalidOutfall
from handlers.titles import Titles
from tests.conftest import Run
from tests.handlers.conftest import Record, workflow_files

CREDIT = "91371502MA3C0000XY"
NEW_FIELDS: dict[str, Any] = {
    "water_function_zone": "徒骇河聊城工业用水区",
    "zone_target": "IV",
    "discharge_regime": "continuous",
    "permit_number": CREDIT + "001P",
    "responsible_credit_code": CREDIT,
    "supervising_department": "eeb_city",
    "standardisation_status": "in_progress",
    "limits": {"COD": 100, "NH3-N": 15, "TP": 0.5},
}


def _paths(error: InvalidOutfall) -> dict[str, str]:
    return {e.json_path: e.message for e in error.errors}


def test_every_new_field_is_kept(ledger: Ledger, admin: Actor, record: Record) -> None:
    view = ledger.add(record(**NEW_FIELDS), admin)
    assert {k: view.record[k] for k in NEW_FIELDS} == NEW_FIELDS


@pytest.mark.parametrize(
    ("sub_type", "department", "named"),
    [
        ("urban_wwtp", "agri_city", "urban_mgmt_city（市城管局）、housing_city"),
        ("irrigation_district", "housing_city", "water_city（市水利局）、eeb_city"),
    ],
)
def test_the_supervising_department_must_supervise_the_sub_type(
    ledger: Ledger, admin: Actor, record: Record, sub_type: str, department: str, named: str
) -> None:
    with pytest.raises(InvalidOutfall) as caught:
        ledger.add(record(sub_type=sub_type, supervising_department=department), admin)
    message = _paths(caught.value)["$.supervising_department"]
    assert f"{department} does not supervise {sub_type}" in message
    assert named in message


def test_an_unknown_department_and_the_eeb_for_any_sub_type(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    with pytest.raises(InvalidOutfall) as caught:
        ledger.add(record(supervising_department="police"), admin)
    assert _paths(caught.value) == {"$.supervising_department": "unknown department 'police'"}
    view = ledger.add(
        record(sub_type="irrigation_district", supervising_department="eeb_city"), admin
    )
    assert view.record["supervising_department"] == "eeb_city"


def test_limits_cells_both_ways() -> None:
    assert format_limits({"COD": 50, "NH3-N": 5.0, "TP": 0.5}) == "COD=50;NH3-N=5;TP=0.5"
    assert parse_limits("COD=50；NH3-N = 5mg/L, TP＝0.5") == {"COD": 50, "NH3-N": 5, "TP": 0.5}
    for bad, message in (
        ("COD", "is not PARAMETER=mg/L"),
        ("COD=fifty", "COD: 'fifty' is not a number"),
        ("COD=0", "more than 0"),
        ("COD=5;COD=6", "COD is given twice"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_limits(bad)


HEADER = "编码,名称,排污口类型,所在县区,受纳水体,排放方式,水质目标,规范化建设,监管部门,排放限值"


def test_import_reads_labels_and_names_and_reports_a_bad_limits_cell(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    good = "371502-0001,甲,工矿企业排污口,东昌府区,徒骇河,间歇排放,Ⅲ类,已完成,市生态环境局,"
    good += "COD=50;TP=0.5"
    bad = "371502-0002,乙,工矿企业排污口,东昌府区,徒骇河,连续排放,IV,建设中,eeb_city,COD=很多"
    source = tmp_path / "ledger.csv"
    source.write_text("\n".join((HEADER, good, bad)) + "\n", encoding="utf-8-sig")
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin)
    assert [str(e) for e in caught.value.result.errors] == [
        f"{source}:3: 排放限值: COD: '很多' is not a number (mg/L)"
    ]
    source.write_text("\n".join((HEADER, good)) + "\n", encoding="utf-8-sig")
    import_file(ledger, source, admin)
    got = ledger.get("371502-0001").record
    assert (got["discharge_regime"], got["zone_target"], got["standardisation_status"]) == (
        "intermittent",
        "III",
        "done",
    )
    assert (got["supervising_department"], got["limits"]) == ("eeb_city", {"COD": 50, "TP": 0.5})


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_every_new_field_round_trips(
    ledger: Ledger,
    admin: Actor,
    tmp_path: Path,
    record: Record,
    suffix: str,
    settings: Settings,
    clock: FakeClock,
) -> None:
    ledger.add(record(**NEW_FIELDS), admin)
    wwtp = {**NEW_FIELDS, "sub_type": "urban_wwtp", "supervising_department": "housing_city"}
    ledger.add(record("371502-0002", **{**wwtp, "discharge_regime": "intermittent"}), admin)
    out = tmp_path / f"ledger.{suffix}"
    assert export_file(ledger, out) == 2
    if suffix == "csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "连续排放" in text
        assert "Ⅳ类" in text
        assert "建设中" in text
        assert "COD=100;NH3-N=15;TP=0.5" in text
        assert "市住房城乡建设局" in text
    before = {v.code: v.record for v in ledger.list()}
    fresh = replace(settings, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    other = Ledger(build_engine(fresh, clock=clock))
    other.engine.load(workflow_files(settings))
    try:
        import_file(other, out, admin)
        assert {v.code: v.record for v in other.list()} == before
    finally:
        other.engine.store.dispose()


def test_the_id_card_shows_them_in_chinese(ledger: Ledger, admin: Actor, record: Record) -> None:
    ledger.add(record(**NEW_FIELDS), admin)
    card = build_card(ledger, "371502-0001", "https://qingliu.example")
    html = render_html(card, ledger.reference, Titles(ledger.engine))
    for text in ("水功能区", "徒骇河聊城工业用水区", "Ⅳ类", "连续排放", "排污许可证编号"):
        assert text in html
    assert "COD=100;NH3-N=15;TP=0.5" in html
    assert "市生态环境局" in html
    assert "建设中" in html


def test_ledger_show_names_them(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    row = "371502-0001,甲,工矿企业排污口,东昌府区,徒骇河,连续排放,IV,建设中,eeb_city,COD=100;TP=0.5"
    source.write_text("\n".join((HEADER, row)) + "\n", encoding="utf-8-sig")
    run("load", "workflows/responsibility.yaml", "workflows/rectification.yaml")
    run("ledger", "import", str(source))
    shown = json.loads(run("ledger", "show", "371502-0001"))
    assert shown["limits"] == {"COD": 100, "TP": 0.5}
    assert shown["names"]["discharge_regime"] == "连续排放"
    assert shown["names"]["zone_target"] == "Ⅳ类"
    assert shown["names"]["supervising_department"] == "市生态环境局"
    assert shown["names"]["limits"] == "COD=100;TP=0.5"


def test_the_api_takes_and_returns_them(loaded: Engine, record: Record) -> None:
    _, secret = create_token(loaded, "t", "admin")
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(loaded, load_domain("handlers"))) as client:
        made = client.post("/api/v1/outfalls", json=record(**NEW_FIELDS), headers=headers)
        assert made.status_code == 201, made.text
        got = client.get("/api/v1/outfalls/371502-0001", headers=headers).json()
        assert {k: got[k] for k in NEW_FIELDS} == NEW_FIELDS
        bad = client.patch(
            "/api/v1/outfalls/371502-0001",
            json={"supervising_department": "water_city"},
            headers=headers,
        )
        assert bad.status_code == 422
        assert "$.supervising_department" in bad.text


def test_a_limits_cell_lists_the_parameters_in_one_order_whatever_the_store_kept() -> None:
    """PostgreSQL's JSONB keeps an object's keys shortest first ({"TP", "COD", "NH3-N"}), SQLite
    as written: the cell, the ID card and the export read the same on both."""
    from handlers.ledger.fields import format_limits

    assert format_limits({"TP": 0.5, "COD": 100, "NH3-N": 15}) == "COD=100;NH3-N=15;TP=0.5"
    assert format_limits({"NH3-N": 15, "TP": 0.5, "COD": 100.0}) == "COD=100;NH3-N=15;TP=0.5"
