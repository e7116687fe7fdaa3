"""The ledger at province scale (issue 20): a bulk import keeps every row's error and the
all-or-nothing rule, keeps the history chain sound, reports its progress; exports stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from engine.audit import verify_store
from engine.handlers import Actor
from engine.settings import Settings
from handlers.ledger import Ledger, responsibility_data
from handlers.ledger import progress as ledger_progress
from handlers.ledger.cli import ledger_group
from handlers.ledger.exporter import export_file, export_rows
from handlers.ledger.io import ImportFailed, import_file
from handlers.ledger.service import OutfallView
from tests.conftest import ROOT
from tests.handlers.conftest import Record

HEADER = "编码,名称,排污口类型,所在县区,受纳水体,经度,纬度,发现日期"
COUNTIES = (("dongchangfu", "371502"), ("yanggu", "371521"), ("guanxian", "371525"))


def good(i: int) -> str:
    county, division = COUNTIES[i % len(COUNTIES)]
    place = "industrial_enterprise,{county},徒骇河,116.0,36.4,2023-05-10"
    return f"{division}-{i:06d},第{i}号排污口," + place.format(county=county)


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def test_three_bad_rows_among_5000_are_all_named_and_nothing_is_written(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    rows = [good(i) for i in range(5000)]
    rows[1200] = rows[1200].replace(",116.0,", ",east,")  # a cell: line 1202
    rows[3000] = rows[3000].replace("industrial_enterprise", "化工厂")  # a record rule: 3002
    rows[4998] = rows[17]  # the same code twice: line 5000
    source = write(tmp_path / "big.csv", rows)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin)
    errors = caught.value.result.errors
    assert [(e.line, e.column) for e in errors] == [
        (1202, "经度"),
        (3002, "排污口类型"),
        (5000, "编码"),
    ]
    assert "371525-000017 is also on line 19" in errors[2].message
    assert ledger.count() == 0
    assert not caught.value.result.written


def test_partial_writes_the_good_rows_of_a_big_file(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    rows = [good(i) for i in range(300)]
    rows[5] = rows[5].replace("徒骇河", "长江")
    source = write(tmp_path / "big.csv", rows)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin, partial=True)
    result = caught.value.result
    assert [(e.line, e.column) for e in result.errors] == [(7, "受纳水体")]
    assert (result.added, result.written, ledger.count()) == (299, True, 299)


def test_a_bulk_import_keeps_the_history_chain_sound(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    ledger.add(_record("371502-900000"), admin)  # history before the import
    import_file(ledger, write(tmp_path / "a.csv", [good(i) for i in range(400)]), admin)
    changed = [good(i).replace(",116.0,", ",116.5,") for i in range(0, 400, 7)]
    result = import_file(ledger, write(tmp_path / "b.csv", changed), admin)
    assert (result.added, result.updated) == (0, len(changed))
    engine = ledger.engine
    assert verify_store(engine.store, engine.keys).problems == []
    assert [c.change for c in ledger.history("371502-000000")] == ["created", "updated"]
    view = ledger.get("371521-000001")
    assert [c.workflow for c in view.cases] == ["responsibility"]
    assert view.record["longitude"] == 116.0


def _record(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "东昌府区1号排污口",
        "sub_type": "industrial_enterprise",
        "county": "dongchangfu",
        "river": "tuhaihe",
    }


def test_a_row_refused_as_it_is_written_is_named_by_its_line(
    ledger: Ledger, admin: Actor, tmp_path: Path
) -> None:
    """A responsibility case already open about a code not yet in the ledger: the row's case
    is refused when written; the import falls back to row by row and names that row."""
    rows = [good(i) for i in range(30)]
    taken = _record("371502-000012") | {"sub_type": "industrial_enterprise"}
    ledger.engine.create_case(
        "responsibility", responsibility_data(taken), admin, subject="371502-000012"
    )
    source = write(tmp_path / "c.csv", rows)
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin)
    assert [e.line for e in caught.value.result.errors] == [14]
    assert ledger.count() == 0
    with pytest.raises(ImportFailed) as caught:
        import_file(ledger, source, admin, partial=True)
    assert [e.line for e in caught.value.result.errors] == [14]
    assert ledger.count() == 29
    assert verify_store(ledger.engine.store, ledger.engine.keys).problems == []


def test_progress_is_reported_up_to_every_row(ledger: Ledger, admin: Actor, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    rows = [good(i) for i in range(50)]
    rows[3] = rows[3].replace(",116.0,", ",east,")
    with pytest.raises(ImportFailed):
        import_file(
            ledger,
            write(tmp_path / "p.csv", rows),
            admin,
            progress=lambda d, t: seen.append((d, t)),
        )
    assert seen[-1] == (50, 50)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# -- the progress bar of `qingliu ledger import` ----------------------------------------------


def _import(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, source: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(ledger_group, ["import", str(source), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("terminal", "args", "shown"),
    [(True, (), True), (True, ("--quiet",), False), (False, (), False)],
)
def test_the_progress_bar_is_on_a_terminal_only_and_not_when_quiet(
    ledger: Ledger,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    args: tuple[str, ...],
    shown: bool,
) -> None:
    monkeypatch.setattr(ledger_progress, "is_terminal", lambda stream: terminal)
    source = write(tmp_path / "bar.csv", [good(i) for i in range(40)])
    code, out, err = _import(settings, monkeypatch, source, *args)
    assert code == 0, out + err
    assert out.strip() == f"{source}: 40 row(s): 40 added, 0 updated"
    assert ("导入台账" in err) is shown
    assert ("40/40" in err) is shown


# -- exports stream ---------------------------------------------------------------------------


class Fetches:
    """Counts the ledger's reads of records, and the most records one read returned."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[int] = []
        real = ledger.list

        def counted(*args: Any, **kwargs: Any) -> list[OutfallView]:
            views = real(*args, **kwargs)
            self.calls.append(len(views))
            return views

        monkeypatch.setattr(ledger, "list", counted)


@pytest.fixture
def seven(ledger: Ledger, admin: Actor, record: Record) -> Ledger:
    for i in range(7):
        ledger.add(record(f"371502-{i:04d}"), admin)
    return ledger


def test_the_export_reads_one_page_at_a_time(
    seven: Ledger, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetches = Fetches(seven, monkeypatch)
    rows = export_rows(seven, seven.iterate(admin, page=3))
    first = next(rows)
    assert first[0] == "371502-0000"
    assert fetches.calls == [3]  # one page read, not the ledger
    rest = list(rows)
    assert [r[0] for r in rest][-1] == "371502-0006"
    assert fetches.calls == [3, 3, 1]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_files_are_written_page_by_page(
    seven: Ledger, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    fetches = Fetches(seven, monkeypatch)
    out = tmp_path / f"ledger.{suffix}"
    assert export_file(seven, out, admin, page=2) == 7
    assert fetches.calls == [2, 2, 2, 1]
    if suffix == "xlsx":
        sheet = load_workbook(out).worksheets[0]
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.bold
        assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)][-1] == "371502-0006"
