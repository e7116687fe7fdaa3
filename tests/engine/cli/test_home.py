"""The home folder (engine/home.py) and ``qingliu init``, as an operator runs them: a home made
anywhere, then used from another working directory by ``--home`` or ``QINGLIU_HOME``; and a
clear refusal (exit 9, naming where it looked) instead of an empty database somewhere else."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine import home
from engine.cli.init import SETTINGS_TEMPLATE, template_folder
from engine.settings import KNOWN_SETTINGS, load_settings
from tests.conftest import ROOT

EXE = shutil.which("qingliu", path=str(Path(sys.executable).parent)) or "qingliu"
OURS = ("QINGLIU_HOME", "QINGLIU_CONFIG", "QINGLIU_DATABASE_URL", "QINGLIU_KEYS", "QINGLIU_BLOBS")
APPLICATION = {
    "outfall_code": "371502A0001",
    "eia_level": "county",
    "kind": "new",
    "county": "dongchangfu",
    "sub_type": "industrial_enterprise",
    "river": "tuhaihe",
    "name": "某化工公司废水排污口",
    "discharging_unit": "某化工公司",
}


def qingliu(*args: str, cwd: Path, code: int = 0, **env: str) -> str:
    """``qingliu ARGS`` in ``cwd`` with none of Qingliu's variables but ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in OURS} | env
    done = subprocess.run(
        [EXE, *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """An empty working directory that holds no home."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_init_then_use_from_another_directory(tmp_path: Path, elsewhere: Path) -> None:
    out = qingliu("init", str(tmp_path / "home"), cwd=tmp_path)
    site = tmp_path / "home"
    assert "qingliu --home home serve" in out
    assert "QINGLIU_HOME=home" in out
    assert mode(site / "var") == 0o700
    assert mode(site / "var" / "keys") == 0o700
    assert mode(site / "config" / "settings.yaml") in (0o640, 0o600)
    assert (site / "var" / "blobs").is_dir()
    shipped = sorted(p.name for p in (ROOT / "config" / "reference").glob("*.yaml"))
    assert sorted(p.name for p in (site / "config" / "reference").glob("*.yaml")) == shipped
    assert (site / "config" / "calendar.yaml").read_bytes() == (
        ROOT / "config" / "calendar.yaml"
    ).read_bytes()
    assert len(list((site / "workflows").glob("*.yaml"))) == 17
    assert list((site / "workflows" / "scenarios").rglob("*.yaml"))

    qingliu("--home", str(site), "load", cwd=elsewhere)
    listed = qingliu("--home", str(site), "workflows", cwd=elsewhere)
    assert "setup_approval" in listed
    created = qingliu(
        "--home",
        str(site),
        "case",
        "create",
        "setup_approval",
        "--subject",
        "371502A0001",
        "--as",
        "applicant",
        "--data",
        json.dumps(APPLICATION, ensure_ascii=False),
        cwd=elsewhere,
    )
    assert '"state": "submitted"' in created
    assert (site / "var" / "qingliu.db").is_file()
    assert any((site / "var" / "keys").iterdir())  # the home's keys, not the cwd's
    assert files_in(elsewhere) == []


def test_no_home_refuses_and_creates_nothing(elsewhere: Path) -> None:
    for args in (["workflows"], ["db", "upgrade"], ["load"]):
        out = qingliu(*args, cwd=elsewhere, code=9)
        assert "--home" in out
        assert "QINGLIU_HOME (not set)" in out
        assert "QINGLIU_CONFIG (not set)" in out
        assert str(elsewhere) in out
        assert "qingliu init DIR" in out
    assert files_in(elsewhere) == []
    # a command that needs no database works as before
    assert "ok: 17 definition(s)" in qingliu("validate", str(ROOT / "workflows"), cwd=elsewhere)
    assert files_in(elsewhere) == []


def test_qingliu_home_and_home_option_beats_it(tmp_path: Path, elsewhere: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    qingliu("init", str(first), cwd=tmp_path, QINGLIU_HOME=str(first))  # the home to be
    qingliu("init", str(second), cwd=tmp_path)
    qingliu("load", cwd=elsewhere, QINGLIU_HOME=str(first))
    assert (first / "var" / "qingliu.db").is_file()
    assert not (second / "var" / "qingliu.db").exists()
    qingliu("--home", str(second), "load", cwd=elsewhere, QINGLIU_HOME=str(first))
    assert (second / "var" / "qingliu.db").is_file()
    # --home also beats the legacy QINGLIU_CONFIG, and QINGLIU_HOME beats it too
    out = qingliu(
        "workflows", cwd=elsewhere, QINGLIU_HOME=str(second), QINGLIU_CONFIG=str(elsewhere)
    )
    assert "setup_approval" in out
    assert files_in(elsewhere) == []


def test_a_named_place_without_a_home_is_refused(tmp_path: Path, elsewhere: Path) -> None:
    nowhere = tmp_path / "nowhere"
    out = qingliu("workflows", cwd=elsewhere, code=9, QINGLIU_HOME=str(nowhere))
    assert f"QINGLIU_HOME names {nowhere}" in out
    assert f"qingliu init {nowhere}" in out
    out = qingliu("--home", str(elsewhere), "workflows", cwd=tmp_path, code=9)
    assert f"--home names {elsewhere}" in out
    assert not nowhere.exists()
    assert files_in(elsewhere) == []


def test_init_refuses_a_home_and_a_folder_in_use(tmp_path: Path) -> None:
    site = tmp_path / "home"
    qingliu("init", str(site), cwd=tmp_path)
    (site / "config" / "settings.yaml").write_text("workflows: mine\n", encoding="utf-8")
    out = qingliu("init", str(site), "--force", cwd=tmp_path, code=9)
    assert "already holds a home" in out
    assert (site / "config" / "settings.yaml").read_text(encoding="utf-8") == "workflows: mine\n"

    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", encoding="utf-8")
    assert "not empty" in qingliu("init", str(used), cwd=tmp_path, code=9)
    assert files_in(used) == [used / "notes.txt"]
    qingliu("init", str(used), "--force", cwd=tmp_path)
    assert (used / "config" / "settings.yaml").is_file()
    assert (used / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_relative_paths_resolve_against_the_home(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in OURS:
        monkeypatch.delenv(name, raising=False)
    site = tmp_path / "site"
    (site / "config").mkdir(parents=True)
    (site / "config" / "settings.yaml").write_text(
        "database_url: sqlite:///data/q.db\nkeys: secret\nblobs_dir: files\nworkflows: flows\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("QINGLIU_HOME", str(site))
    settings = load_settings()
    assert settings.home == site
    assert settings.database_url == f"sqlite:///{site / 'data' / 'q.db'}"
    assert settings.keys_dir == str(site / "secret")
    assert settings.blobs_dir == str(site / "files")
    assert settings.workflows == str(site / "flows")
    assert settings.home_problem is None
    # given in the environment, they keep their meaning: relative to the working directory
    monkeypatch.setenv("QINGLIU_DATABASE_URL", "sqlite:///here.db")
    monkeypatch.setenv("QINGLIU_KEYS", "keys-here")
    monkeypatch.setenv("QINGLIU_BLOBS", "blobs-here")
    settings = load_settings()
    assert settings.database_url == "sqlite:///here.db"
    assert settings.keys_dir == "keys-here"
    assert settings.blobs_dir == "blobs-here"
    # the legacy QINGLIU_CONFIG names the config folder, and its settings' relative paths keep
    # their meaning of before the home: relative to the working directory
    for name in ("QINGLIU_HOME", "QINGLIU_DATABASE_URL", "QINGLIU_KEYS", "QINGLIU_BLOBS"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("QINGLIU_CONFIG", str(site / "config"))
    settings = load_settings()
    assert settings.home == site
    assert settings.workflows == str(elsewhere / "flows")
    assert settings.database_url == f"sqlite:///{elsewhere / 'data' / 'q.db'}"
    assert settings.keys_dir == str(elsewhere / "secret")
    assert settings.blobs_dir == str(elsewhere / "files")


def test_the_template_names_every_setting_with_its_default(tmp_path: Path) -> None:
    written = yaml.safe_load(SETTINGS_TEMPLATE)
    assert set(written) == KNOWN_SETTINGS
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.yaml").write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    (tmp_path / "bare").mkdir()
    ours, defaults = load_settings(tmp_path / "config"), load_settings(tmp_path / "bare")
    assert ours.database_url == f"sqlite:///{tmp_path / 'var' / 'qingliu.db'}"
    for name in ("handlers", "public_base_url", "max_body_bytes"):
        assert getattr(ours, name) == getattr(defaults, name)
    assert Path(ours.workflows) == tmp_path / "workflows"


def test_the_template_of_an_installed_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel carries config/ and workflows/ as <domain package>/skeleton/ (setup.py)."""
    package = tmp_path / "site-packages" / "fakedomain"
    (package / "skeleton" / "config").mkdir(parents=True)
    (package / "skeleton" / "workflows").mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "skeleton" / "config" / "settings.yaml").write_text("{}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site-packages"))
    assert template_folder("fakedomain") == package / "skeleton"
    assert template_folder() == ROOT  # the checkout: an editable install


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["--home", "/srv/q", "serve"], "/srv/q"),
        (["--home=/srv/q", "load"], "/srv/q"),
        (["serve", "--home", "/srv/q"], None),  # a command's option, not the group's
        (["--version"], None),
        (["--home"], None),
    ],
)
def test_home_option_read_before_click(argv: list[str], found: str | None) -> None:
    assert home.home_from_argv(argv) == found


def test_the_command_read_before_click() -> None:
    assert home.command_from_argv(["--home", "init", "init", "x"]) == "init"
    assert home.command_from_argv(["--home=/srv/q", "serve", "--home", "x"]) == "serve"
    assert home.command_from_argv(["--version"]) is None


def test_a_database_url_with_a_port_that_is_no_number_is_a_configuration_error(
    tmp_path: Path, elsewhere: Path
) -> None:
    site = tmp_path / "site"
    (site / "config").mkdir(parents=True)
    (site / "config" / "settings.yaml").write_text(
        "database_url: postgresql+psycopg://u:secret@db:54x2/q\n", encoding="utf-8"
    )
    out = qingliu("--home", str(site), "workflows", cwd=elsewhere, code=9)
    assert "database_url is not a database URL" in out
    assert "secret" not in out
    env_url = "postgresql+psycopg://u:secret@db:54x2/q"
    out = qingliu("workflows", cwd=ROOT, code=9, QINGLIU_DATABASE_URL=env_url)
    assert "cannot use database postgresql+psycopg://..." in out
    assert "secret" not in out
