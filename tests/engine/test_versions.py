"""Which text is the workflow: the database holds the versions, a folder is an import.

Loading a folder (``qingliu load``, and ``qingliu serve`` at start) publishes a file only when
its text is not already a version of that workflow, and never over a version published through
the API after the file was last imported (it is skipped with a warning naming both).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from tests.conftest import ROOT, Run

VERSIONS = ROOT / "tests" / "fixtures" / "versions"
V1 = (VERSIONS / "v1.yaml").read_text(encoding="utf-8")
V2 = (VERSIONS / "v2.yaml").read_text(encoding="utf-8")
CLERK = Actor("窗口", "clerk")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A workflows folder holding v1 as ``permit.yaml``."""
    path = tmp_path / "workflows"
    path.mkdir()
    shutil.copy(VERSIONS / "v1.yaml", path / "permit.yaml")
    return path


def test_restart_keeps_the_version_published_through_the_api(
    engine: Engine, folder: Path, admin: Actor
) -> None:
    """The defect: serve's load step republished the folder's v1 as v3 over the API's v2."""
    assert [p.version for p in engine.load([folder])] == [1]
    assert engine.publish(V2, source="PUT mig_permit", by=admin).version == 2
    again = engine.load([folder])  # what `qingliu serve` does when it starts
    assert [(p.version, p.created) for p in again] == [(1, False)]
    assert [r.version for r in engine.definitions()] == [2]
    case = engine.create_case("mig_permit", {}, CLERK)
    assert (case.case.workflow_version, case.state) == (2, "intake")


def test_a_file_edited_after_an_api_version_is_skipped_with_a_warning(
    engine: Engine, folder: Path, admin: Actor
) -> None:
    engine.load([folder])
    engine.publish(V2, by=admin)
    (folder / "permit.yaml").write_text(V1.replace("许可迁移测试", "许可迁移测试（改）"), "utf-8")
    [skipped] = engine.load([folder])
    assert not skipped.created
    assert skipped.version == 2
    assert skipped.warning is not None
    assert "v1" in skipped.warning
    assert "v2" in skipped.warning
    assert admin.name in skipped.warning
    assert str(folder / "permit.yaml") in skipped.warning
    assert [r.version for r in engine.definitions()] == [2]
    # Forced (`qingliu load --force`), the file wins and becomes v3.
    [forced] = engine.load([folder], force=True)
    assert (forced.version, forced.created) == (3, True)


def test_a_file_changed_since_its_import_is_published(engine: Engine, folder: Path) -> None:
    engine.load([folder])
    shutil.copy(VERSIONS / "v2.yaml", folder / "permit.yaml")
    [published] = engine.load([folder])
    assert (published.version, published.created, published.warning) == (2, True, None)
    # Back to v1's text: that is a version already, so nothing is published.
    shutil.copy(VERSIONS / "v1.yaml", folder / "permit.yaml")
    [older] = engine.load([folder])
    assert (older.version, older.created) == (1, False)
    assert older.warning is not None
    assert "v2" in older.warning
    assert [r.version for r in engine.definitions()] == [2]


def test_each_version_records_where_it_came_from(
    engine: Engine, folder: Path, admin: Actor
) -> None:
    engine.load([folder])
    engine.publish(V2, by=admin)
    first, _ = engine.definition("mig_permit", 1)
    second, _ = engine.definition("mig_permit", 2)
    assert (first.origin, first.origin_ref) == ("file", str(folder / "permit.yaml"))
    assert (second.origin, second.origin_ref) == ("api", admin.name)


def test_load_prints_the_warning(
    run: Run, tmp_path: Path, folder: Path, settings: Settings, admin: Actor
) -> None:
    run("load", str(folder))
    api = build_engine(
        dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    )
    try:
        api.publish(V2, by=admin)  # as PUT /api/v1/workflows/mig_permit does
    finally:
        api.store.dispose()
    (folder / "permit.yaml").write_text(V1.replace("许可迁移测试", "许可迁移测试（改）"), "utf-8")
    out = run("load", str(folder))
    assert "mig_permit v2 (skipped:" in out
    assert "--force" in out
