"""The ledger commands as a user runs them: the installed `qingliu` command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run

HEADER = "编码,名称,排污口类型,所在县区,受纳水体"
GOOD = "371502-0001,东昌府区1号排污口,工矿企业排污口,东昌府区,徒骇河"
BAD = "371502-0002,东昌府区2号排污口,化工厂,东昌府区,徒骇河"


def test_import_list_show_export_and_card(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\n".join([HEADER, GOOD, BAD]) + "\n", encoding="utf-8-sig")
    out = run("ledger", "import", str(source), code=9)
    assert "the responsibility workflow is not published" in out
    run("load", "workflows/responsibility.yaml", "workflows/rectification.yaml")

    out = run("ledger", "import", str(source), code=7)
    assert f"{source}:3: 排污口类型: unknown outfall sub-type '化工厂'" in out
    assert "nothing written" in out
    assert "0 outfall(s)" in run("ledger", "list")

    out = run("ledger", "import", str(source), "--partial", code=7)
    assert "1 added, 0 updated written" in out
    listing = run("ledger", "list")
    assert "371502-0001" in listing
    assert "工矿企业排污口" in listing
    shown = json.loads(run("ledger", "show", "371502-0001"))
    assert shown["cases"][0]["workflow"] == "responsibility"
    assert "not found" in run("ledger", "show", "371502-9999", code=3)

    exported = tmp_path / "out.xlsx"
    assert "1 outfall(s)" in run("ledger", "export", str(exported), "--county", "dongchangfu")
    assert exported.read_bytes().startswith(b"PK")

    cards = tmp_path / "cards"
    printed = run("outfall", "card", "371502-0001", "--out", str(cards)).split()
    assert sorted(Path(p).name for p in printed) == [
        "371502-0001.html",
        "371502-0001.png",
        "371502-0001.svg",
    ]
    assert "http://localhost:8000/o/371502-0001" in (cards / "371502-0001.html").read_text(
        encoding="utf-8"
    )
