"""``qingliu migrate`` and ``qingliu case correct|cancel|reopen|reassign`` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import ROOT, Run

VERSIONS = ROOT / "tests" / "fixtures" / "versions"


def test_migrate_then_administer(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    shutil.copy(VERSIONS / "v1.yaml", folder / "permit.yaml")
    run("load", str(folder))
    made = run("case", "create", "mig_permit", "--as", "clerk", "--data", '{"permit_no": "XK-1"}')
    case_id = json.loads(made[made.index("{") :])["id"]
    run("case", "create", "mig_permit", "--as", "clerk")
    run("case", "fire", str(case_id), "review", "--as", "clerk")
    shutil.copy(VERSIONS / "v2.yaml", folder / "permit.yaml")
    assert "mig_permit v2 (new version)" in run("load", str(folder))

    planned = run("migrate", "mig_permit", "--to", "2", "--dry-run")
    assert f"case {case_id}: v1 reviewing -> v2 reviewing" in planned
    assert "timer chase: cancelled" in planned
    assert "deadline review_limit: kept" in planned
    assert "would move 1 case(s) to v2, 1 refused" in planned
    refused = run("migrate", "mig_permit", "--to", "2", code=6)
    assert "none was moved" in refused
    assert "--map received=STATE" in refused
    moved = run(
        "migrate", "mig_permit", "--to", "2", "--map", "received=intake", "--reason", "新规"
    )
    assert "moved 2 case(s) to v2, 0 refused" in moved
    assert "2 case(s), 0 mismatch(es)" in run("replay")

    fixed = run("case", "correct", str(case_id), "note", "更正", "--reason", "来函")
    assert json.loads(fixed[fixed.index("{") :])["data"]["note"] == "更正"
    run("case", "cancel", str(case_id), "--reason", "重复", "--as", "clerk", code=4)
    cancelled = run("case", "cancel", str(case_id), "--reason", "重复")
    assert json.loads(cancelled[cancelled.index("{") :])["open"] is False
    reopened = run("case", "reopen", str(case_id), "reviewing", "--reason", "误撤")
    assert json.loads(reopened[reopened.index("{") :])["open"] is True
    run("case", "reassign", str(case_id), "atlantis", "--reason", "x", code=7)
    assert "0 mismatch(es)" in run("replay")
    assert "every chain verified" in run("audit", "verify")
