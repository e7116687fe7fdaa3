"""Ledger import and export: CSV and xlsx, Chinese headers and names, row-level errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings, build_engine
from handlers.ledger import Ledger
from handlers.ledger.io import COLUMNS, ImportFailed, export_file, import_file
from handlers.ledger.tabular import UnreadableFile
from tests.handlers.conftest import Record, workflow_files

HEADER = "编码,名称,排污口类型,所在县区,受纳水体,经度,纬度,兜底责任,状态,发现日期"
GOOD_1 = (
    "371502-0001,东昌府区化工1号排污口,工矿企业排污口,东昌府区,徒骇河,115.98,36.45,否,在用,2023/5/1"
)
GOOD_2 = "371521-0001,阳谷县1号排污口,5,yanggu,huanghe,115.79,36.11,是,active,2023-06-01"
BAD = "371521-0002,阳谷县2号排污口,化工厂,阳谷县,黄河（干流）,east,36.1,也许,在用,2023-13-01"


def write(path: Path, *lines: str, encoding: str = "utf-8-sig") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def test_a_good_file_adds_every_outfall_with_names_or_codes(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    source = write(tmp_path / "ledger.csv", HEADER, GOOD_1, GOOD_2)
    result = import_file(ledger, source, admin)
    assert (result.rows, result.added, result.updated, result.errors) == (2, 2, 0, [])
    first = ledger.get("371502-0001")
    assert first.record["sub_type"] == "industrial_enterprise"
    assert first.record["county"] == "dongchangfu"
    assert first.record["found_at"] == "2023-05-01"
    second = ledger.get("371521-0001")
    assert second.record["sub_type"] == "urban_wwtp"  # annex number 5
    assert second.record["responsible_fallback"] is True
    assert second.record["basin"] == "yellow_river"
    assert [c.workflow for c in second.cases] == ["responsibility"]


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_written(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    dup = GOOD_1.replace("东昌府区化工1号", "重复")
    source = write(tmp_path / "ledger.csv", HEADER, GOOD_1, "", BAD, GOOD_2, dup)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin)
    lines = [str(e) for e in caught.value.result.errors]
    assert lines == [
        f"{source}:4: 经度: 'east' is not a number",
        f"{source}:4: 兜底责任: '也许' is not 是/否",
        f"{source}:4: 发现日期: '2023-13-01' is not a date (YYYY-MM-DD)",
        f"{source}:6: 编码: 371502-0001 is also on line 2",
    ]
    assert caught.value.result.written is False
    assert ledger.count() == 0
    assert ledger.engine.list_cases() == []


def test_reference_errors_are_found_in_the_same_pass(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    row = "371521-0002,阳谷县2号排污口,化工厂,阳谷县,长江,,,,,"
    source = write(tmp_path / "ledger.csv", HEADER, GOOD_1, row)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin)
    assert [str(e) for e in caught.value.result.errors] == [
        f"{source}:3: 排污口类型: unknown outfall sub-type '化工厂'",
        f"{source}:3: 受纳水体: unknown river '长江'",
    ]
    assert ledger.count() == 0


def test_partial_keeps_the_good_rows(ledger: Ledger, admin: Actor, tmp_path: Path) -> None:
    source = write(tmp_path / "ledger.csv", HEADER, GOOD_1, BAD, GOOD_2)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin, partial=True)
    result = caught.value.result
    assert (result.written, result.added) == (True, 2)
    assert {e.line for e in result.errors} == {3}
    assert [v.code for v in ledger.list()] == ["371502-0001", "371521-0001"]
    assert len(ledger.engine.list_cases(workflow="responsibility")) == 2


def test_header_problems_stop_the_import(ledger: Ledger, admin: Actor, tmp_path: Path) -> None:
    source = write(tmp_path / "ledger.csv", "编码,名称,颜色,code", "371502-0001,x,红,371502-0001")
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin, partial=True)
    assert [str(e) for e in caught.value.result.errors] == [
        f"{source}:1: 颜色: unknown column",
        f"{source}:1: code: column 编码 given twice",
        f"{source}:1: 排污口类型: required column is missing",
        f"{source}:1: 所在县区: required column is missing",
        f"{source}:1: 受纳水体: required column is missing",
    ]
    assert ledger.count() == 0


def test_english_headers_gb18030_and_updates(
    ledger: Ledger, admin: Actor, tmp_path: Path, record: Record
) -> None:
    ledger.add(record(), admin)
    source = write(
        tmp_path / "ledger.csv",
        "code,name,sub_type,county,river,address",
        "371502-0001,东昌府区化工1号排污口,industrial_enterprise,dongchangfu,tuhaihe,新地址",
        encoding="gb18030",
    )
    result = import_file(ledger, source, admin)
    assert (result.added, result.updated) == (0, 1)
    view = ledger.get("371502-0001")
    assert view.record["address"] == "新地址"
    assert view.record["found_at"] == "2023-05-10"  # kept: not a column of the file
    assert len(view.cases) == 1  # an update opens no new case


def test_unreadable_files(ledger: Ledger, admin: Actor, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="use a .csv or .xlsx"):
        import_file(ledger, tmp_path / "ledger.txt", admin)
    with pytest.raises(UnreadableFile, match="no such file"):
        import_file(ledger, tmp_path / "missing.csv", admin)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UnreadableFile, match="not an Excel"):
        import_file(ledger, broken, admin)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_round_trips(
    ledger: Ledger,
    admin: Actor,
    tmp_path: Path,
    record: Record,
    suffix: str,
    settings: Settings,
    clock: FakeClock,
) -> None:
    ledger.add(record(local_code="DCF-01", address="东昌路1号", setup_basis="legacy"), admin)
    ledger.add(
        record(
            "371521-0001",
            county="yanggu",
            river="huanghe",
            sub_type="urban_wwtp",
            responsible_fallback=True,
            status="merged",
            rectification_status="done",
            rectification_mode="merge",
            merged_into="371502-0001",
        ),
        admin,
    )
    out = tmp_path / f"ledger.{suffix}"
    assert export_file(ledger, out) == 2
    if suffix == "csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
        assert "城镇污水处理厂排污口,阳谷县" in raw.decode("utf-8-sig")
    else:
        sheet = load_workbook(out).worksheets[0]
        assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    before = {v.code: v.record for v in ledger.list()}

    fresh = replace(settings, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    other = Ledger(build_engine(fresh, clock=clock))
    other.engine.load(workflow_files(settings))
    try:
        result = import_file(other, out, admin)
        assert result.added == 2
        assert {v.code: v.record for v in other.list()} == before
    finally:
        other.engine.store.dispose()


def test_export_filters(ledger: Ledger, admin: Actor, tmp_path: Path, record: Record) -> None:
    ledger.add(record(), admin)
    ledger.add(record("371521-0001", county="yanggu", river="huanghe"), admin)
    out = tmp_path / "yanggu.csv"
    assert export_file(ledger, out, county="yanggu") == 1
    assert "371521-0001" in out.read_text(encoding="utf-8-sig")
    assert "371502-0001" not in out.read_text(encoding="utf-8-sig")


def test_xlsx_numbers_dates_and_line_numbers(ledger: Ledger, admin: Actor, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编码", "名称", "排污口类型", "所在县区", "受纳水体", "发现日期", "经度", "纬度"])
    sheet.append([371502000001, "数字编码排污口", 1, "东昌府区", "徒骇河", datetime(2023, 5, 10)])
    sheet.append([None] * 8)
    sheet.append(["371502-0002", "坏坐标", 1, "东昌府区", "徒骇河", None, 300, 36.4])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, path, admin)
    assert [str(e) for e in caught.value.result.errors] == [
        f"{path}:4: 经度: 300.0 is greater than the maximum of 135.1"
    ]
    sheet.delete_rows(4)
    book.save(path)
    import_file(ledger, path, admin)
    view = ledger.get("371502000001")
    assert (view.record["found_at"], view.record["sub_type"]) == (
        "2023-05-10",
        "industrial_enterprise",
    )
