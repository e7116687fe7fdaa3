"""Every section of 聊政办字〔2023〕11号 that a workflow or a document cites exists in the plan
(issue 15 item 11: 五(三), 五(四) and 四(三)5 did not)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The plan's sections: 三 重点任务 (一)-(四), (四) in items 1-6; 四 保障措施 (一)-(四); 附件.
SECTIONS = {
    *(f"三({n})" for n in "一二三四"),
    *(f"三(四){i}" for i in range(1, 7)),
    *(f"四({n})" for n in "一二三四"),
}
CITATION = re.compile(r"[一二三四五六七八九十]\([一二三四五六七八九十]\)\d*")
FILES = sorted([*(ROOT / "workflows").glob("*.yaml"), *(ROOT / "docs").glob("*.md")])


def _cited(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8").replace("（", "(").replace("）", ")")
    return set(CITATION.findall(text))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_cited_plan_sections_exist(path: Path) -> None:
    assert sorted(_cited(path) - SECTIONS) == []


@pytest.mark.parametrize(
    ("workflow", "section"),
    [
        ("escalation", "四(三)"),
        ("public_report", "四(四)"),
        ("enforcement", "三(四)5"),
        ("key_river_campaign", "三(四)5"),
        ("campaign_inspection", "三(四)5"),
        ("screening", "三(一)"),
    ],
)
def test_the_supervision_workflows_cite_their_sections(workflow: str, section: str) -> None:
    assert section in _cited(ROOT / "workflows" / f"{workflow}.yaml")
