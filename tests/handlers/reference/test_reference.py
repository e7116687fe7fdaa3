"""Reference data in config/reference/: the shipped files are sound and match the plan, the
accessors answer from them, and ``check_reference`` / ``qingliu config check`` name each problem
by file and key."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ConfigError
from engine.settings import Settings, build_engine, load_settings
from handlers.reference import data as ref
from handlers.reference.check import check_reference
from tests.conftest import ROOT

QINGLIU = ROOT / ".venv" / "bin" / "qingliu"


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return load_settings(ROOT / "config").reference


def test_the_shipped_reference_data_is_sound(shipped: dict[str, Any]) -> None:
    assert check_reference(shipped) == []


def test_the_classification_follows_the_plan_annex(shipped: dict[str, Any]) -> None:
    subs = ref.sub_types(shipped)
    # the annex's 15, and one finer child: 市政雨洪排口 under 其他排污口 (三(四)3), numbered as it
    assert [s["no"] for s in subs] == [*range(1, 16), 15]
    child = subs[-1]
    assert (child["code"], child["name"]) == ("municipal_storm", "市政雨洪排口")
    assert child["departments"] == ["urban_mgmt_city", "housing_city"]
    assert [s["code"] for s in subs][:5] == [
        "industrial_enterprise",
        "park_wwtp",
        "enterprise_storm",
        "park_wwtp_storm",
        "urban_wwtp",
    ]
    assert ref.class_of(shipped, "urban_wwtp") == "urban_wwtp_class"
    assert ref.class_of(shipped, "irrigation_district") == "other"
    approved = [s["code"] for s in subs if s["approval_required"]]
    assert approved == ["industrial_enterprise", "park_wwtp", "urban_wwtp"]
    heavy = {s["code"] for s in subs if s["spot_check_weight"] > 1}
    assert heavy == set(ref.spot_check(shipped)["focus_sub_types"])


@pytest.mark.parametrize(
    ("sub_type", "departments"),
    [
        ("industrial_enterprise", ["eeb_city"]),
        ("rural_facility", ["eeb_city"]),
        ("urban_wwtp", ["urban_mgmt_city", "housing_city"]),
        ("livestock_large", ["eeb_city", "agri_city"]),
        ("aquaculture_small", ["agri_city"]),
        ("irrigation_district", ["water_city"]),
        ("unknown", []),
    ],
)
def test_supervising_departments_follow_section_four_two(
    shipped: dict[str, Any], sub_type: str, departments: list[str]
) -> None:
    assert ref.departments_for(shipped, sub_type) == departments


def test_places_deadlines_and_superiors(shipped: dict[str, Any]) -> None:
    counties = ref.county_codes(shipped)
    assert len(counties) == 11  # 8 counties and 3 development zones
    assert ref.jurisdiction_name(shipped, "jiangbei") == "江北水城旅游度假区"
    assert ref.common_superior(shipped, "donge", "jingkai") == "liaocheng"
    assert ref.common_superior(shipped, "donge", "liaocheng") == "shandong"
    assert ref.basin_of(shipped, "jindihe") == "yellow_river"
    assert ref.rectification_deadline(shipped, "yellow_river") == "2024-06-30"
    assert ref.rectification_deadline(shipped, "haihe") == "2025-12-31"
    assert ref.rectification_deadline(shipped, None) == "2025-12-31"
    assert ref.deadline(shipped, "retained_list_filing") == "2023-05-15"
    assert ref.new_outfall_period(shipped) == {"months": 6}
    assert ref.is_new_outfall(shipped, "yellow_river", "2024-07-01")
    assert not ref.is_new_outfall(shipped, "haihe", "2024-07-01")
    assert ref.new_outfall_deadline(shipped, "2025-08-31") == "2026-02-28"


def test_a_finer_level_is_added_in_config_and_inherits(shipped: dict[str, Any]) -> None:
    changed = copy.deepcopy(shipped)
    first = changed["outfall_types"]["classes"][0]["sub_types"][0]
    first["children"] = [{"code": "tailings_pond", "name": "尾矿库排污口"}]
    assert check_reference(changed) == []
    child = ref.sub_type(changed, "tailings_pond")
    assert child is not None
    assert child["departments"] == ["eeb_city"]
    assert child["approval_required"] is True
    assert ref.class_of(changed, "tailings_pond") == "industrial"


def _broken(shipped: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(shipped)
    bad["jurisdictions"]["jurisdictions"][2]["parent"] = "nowhere"
    bad["departments"]["departments"][0]["roles"].append("ghost")
    subs = bad["outfall_types"]["classes"][0]["sub_types"]
    subs[1]["departments"] = ["eeb_county"]
    subs[2]["code"] = "industrial_enterprise"
    bad["rivers"]["rivers"][0]["basin"] = "yangtze"
    bad["deadlines"]["rectification_deadline_by_basin"]["yellow_river"] = "2024-06-31"
    bad["sampling"]["spot_check"]["city_ratio"] = 1.5
    bad["sampling"]["spot_check"]["focus_sub_types"].append("mine")
    return bad


def test_each_problem_is_named_by_file_and_key(shipped: dict[str, Any]) -> None:
    problems = check_reference(_broken(shipped))
    assert problems == [
        "jurisdictions.yaml: jurisdictions[2].parent: unknown jurisdiction 'nowhere'",
        "departments.yaml: departments[0].roles[2]: unknown role 'ghost'",
        "outfall_types.yaml: classes[0].sub_types[1].departments[0]: "
        "unknown department 'eeb_county'",
        "outfall_types.yaml: classes[0].sub_types[2].code: "
        "duplicate sub-type code 'industrial_enterprise'",
        "rivers.yaml: rivers[0].basin: unknown basin 'yangtze'",
        "deadlines.yaml: rectification_deadline_by_basin.yellow_river: "
        "'2024-06-31' is not a date (YYYY-MM-DD)",
        "sampling.yaml: spot_check.city_ratio: must be a number in (0, 1]",
        "sampling.yaml: spot_check.focus_sub_types[3]: unknown 'mine'",
    ]


def test_the_engine_refuses_to_start_on_broken_reference_data(
    settings: Settings, shipped: dict[str, Any]
) -> None:
    broken = Settings(
        config_dir=settings.config_dir,
        database_url=settings.database_url,
        handlers=settings.handlers,
        workflows=settings.workflows,
        reference=_broken(shipped),
    )
    with pytest.raises(ConfigError, match=r"has 8 problem\(s\)") as caught:
        build_engine(broken)
    assert "rivers.yaml: rivers[0].basin: unknown basin 'yangtze'" in str(caught.value)


def test_a_missing_file_is_named() -> None:
    assert check_reference({}) == [
        f"{name}.yaml: missing (config/reference/{name}.yaml)"
        for name in (
            "jurisdictions",
            "departments",
            "roles",
            "outfall_types",
            "rivers",
            "deadlines",
            "sampling",
            "violations",
            "neighbours",
        )
    ]


def _config_check(config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QINGLIU_CONFIG": str(config)}
    return subprocess.run(
        [str(QINGLIU), "config", "check"], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_config_check_command(shipped: dict[str, Any], tmp_path: Path) -> None:
    done = _config_check(ROOT / "config")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: deadlines.yaml, departments.yaml")

    broken = tmp_path / "config"
    shutil.copytree(ROOT / "config", broken)
    rivers = shipped["rivers"] | {"rivers": [{"code": "huanghe", "name": "黄河", "basin": "x"}]}
    (broken / "reference" / "rivers.yaml").write_text(yaml.safe_dump(rivers), encoding="utf-8")
    sections = [s for s in shipped["river_sections"]["sections"] if s["river"] == "huanghe"]
    (broken / "reference" / "river_sections.yaml").write_text(
        yaml.safe_dump({"sections": sections}, allow_unicode=True), encoding="utf-8"
    )
    done = _config_check(broken)
    assert done.returncode == 9
    rivers_yaml = broken / "reference" / "rivers.yaml"
    line = next(
        n for n, text in enumerate(rivers_yaml.read_text().splitlines(), 1) if "basin: x" in text
    )
    column = rivers_yaml.read_text().splitlines()[line - 1].index("basin") + 1
    assert f"{rivers_yaml}:{line}:{column}: rivers[0].basin: unknown basin 'x'" in done.stdout
    assert "1 problem(s)" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_check_names_workflow_roles_missing_from_roles_yaml(
    shipped: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    # the home is config's parent: its workflows/ are checked (engine/home.py)
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    roles = [r for r in shipped["roles"]["roles"] if r["code"] != "province_gov"]
    (config / "reference" / "roles.yaml").write_text(
        yaml.safe_dump({"roles": roles}, allow_unicode=True), encoding="utf-8"
    )
    done = _config_check(config)
    assert done.returncode == 9
    assert "roles.yaml: workflow 'responsibility' names role 'province_gov', not listed" in (
        done.stdout
    )


@pytest.mark.parametrize(
    ("period", "problem"),
    [
        (None, "new_outfall_period: must be a mapping such as {months: 6} (months, days)"),
        ({"weeks": 2}, "new_outfall_period.weeks: unknown unit 'weeks' (months, days)"),
        ({"months": 0}, "new_outfall_period.months: must be a positive whole number"),
        ({"days": "90"}, "new_outfall_period.days: must be a positive whole number"),
        ({"months": True}, "new_outfall_period.months: must be a positive whole number"),
    ],
    ids=["missing", "unit", "zero", "text", "bool"],
)
def test_the_new_outfall_period_is_checked(
    shipped: dict[str, Any], period: Any, problem: str
) -> None:
    """新增排污口动态清零 (三(一)): the period a new outfall gets without its own plan."""
    changed = copy.deepcopy(shipped)
    changed["deadlines"].pop("new_outfall_period")
    if period is not None:
        changed["deadlines"]["new_outfall_period"] = period
    assert check_reference(changed) == [f"deadlines.yaml: {problem}"]
    assert check_reference(changed | {"deadlines": shipped["deadlines"]}) == []


def test_config_check_points_at_the_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    deadlines = config / "reference" / "deadlines.yaml"
    text = deadlines.read_text(encoding="utf-8").replace(
        "new_outfall_period: {months: 6}", "new_outfall_period: {months: -6}"
    )
    deadlines.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "months: -6" in row)
    column = text.splitlines()[line - 1].index("months") + 1
    done = _config_check(config)
    assert done.returncode == 9
    assert done.stdout.splitlines() == [
        f"{deadlines}:{line}:{column}: new_outfall_period.months: must be a positive whole number"
    ]


def test_violations_and_neighbours_are_checked_at_their_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    violations = config / "reference" / "violations.yaml"
    text = violations.read_text(encoding="utf-8")
    violations.write_text(text.replace("authority: drainage", "authority: water"), "utf-8")
    neighbours = config / "reference" / "neighbours.yaml"
    text = neighbours.read_text(encoding="utf-8")
    neighbours.write_text(text.replace("common_superior: state_council", "common_superior: x", 1))
    done = _config_check(config)
    assert done.returncode == 9
    lines = done.stdout.splitlines()
    bad_authority = next(
        n for n, line in enumerate(violations.read_text("utf-8").splitlines(), 1) if "water" in line
    )
    bad_superior = next(
        n for n, line in enumerate(neighbours.read_text("utf-8").splitlines(), 1) if ": x" in line
    )
    assert lines == [
        f"{violations}:{bad_authority}:5: violations[5].authority: unknown authority 'water'",
        f"{violations}:{bad_authority + 5}:5: violations[6].authority: unknown authority 'water'",
        f"{violations}:{bad_authority + 10}:5: violations[7].authority: unknown authority 'water'",
        f"{neighbours}:{bad_superior}:5: neighbours[0].common_superior: unknown superior 'x'",
    ]


def test_the_violation_table_gives_the_eeb_the_water_pollution_law(
    shipped: dict[str, Any],
) -> None:
    """三(四)3: the EEB enforces; 三(四)5: 城管 the urban drainage regulation."""
    table = {v["code"]: v for v in shipped["violations"]["violations"]}
    for code in ("over_limit", "secret_discharge", "private_outfall", "unapproved_setup"):
        assert table[code]["authority"] == "eeb"
        assert table[code]["basis"].startswith("《中华人民共和国水污染防治法》")
    assert table["unpermitted_drainage"]["authority"] == "drainage"
    assert table["unpermitted_drainage"]["basis"].startswith("《城镇排水与污水处理条例》")
    assert ref.violation_authority(shipped, "over_limit")["roles"][0] == "eeb_city"  # type: ignore[index]
    assert ref.neighbour_of(shipped, "河北省邯郸市馆陶县某镇")["code"] == "hebei"  # type: ignore[index]
    assert ref.neighbour_of(shipped, "德州市齐河县") is None


def test_the_basin_bureaus_scope_lies_on_the_rivers(shipped: dict[str, Any]) -> None:
    """Issue 15 item 7: which basin bureau approves an outfall follows its receiving river."""
    assert ref.basin_bureau_for(shipped, "huanghe") == "basin_bureau"
    assert ref.basin_bureau_for(shipped, "weiyunhe") == "basin_bureau_haihe"
    assert ref.basin_bureau_for(shipped, "tuhaihe") is None  # 海河流域, but within Shandong
    assert ref.basin_bureau_for(shipped, "majiahe") is None
    assert ref.basin_bureau_for(shipped, "nowhere") is None
    assert ref.bureau_of_basin(shipped, "haihe") == "basin_bureau_haihe"
    assert {ref.basin_of(shipped, r) for r in ("tuhaihe", "majiahe", "weiyunhe")} == {"haihe"}


def test_the_basin_scope_is_checked(shipped: dict[str, Any]) -> None:
    bad = copy.deepcopy(shipped)
    bad["rivers"]["basins"][0]["bureau"] = "approval_city"  # holds no basin_bureau role
    bad["rivers"]["basins"][1]["bureau"] = "haihe_office"
    bad["rivers"]["rivers"][1]["basin_scope"] = "yes"
    assert check_reference(bad) == [
        "rivers.yaml: basins[0].bureau: department 'approval_city' does not hold the "
        "basin_bureau role",
        "rivers.yaml: basins[1].bureau: unknown department 'haihe_office'",
        "rivers.yaml: rivers[1].basin_scope: must be true or false",
    ]
    del bad["rivers"]["basins"][1]["bureau"]
    bad["rivers"]["rivers"][1]["basin_scope"] = False
    bad["rivers"]["basins"][0]["bureau"] = "basin_bureau"
    assert check_reference(bad) == [
        "rivers.yaml: rivers[3].basin_scope: basin 'haihe' names no bureau to approve it"
    ]


def test_rivers_water_quality_tributaries_and_sections_are_checked(
    shipped: dict[str, Any],
) -> None:
    assert ref.tributaries(shipped, "tuhaihe") == ["xiaoyunhe", "zhaoniuhe"]
    assert ref.tributaries(shipped, "majiahe") == []
    donge = [s["code"] for s in ref.river_sections(shipped, county="donge")]
    assert donge == ["donge-huanghe", "donge-tuhaihe"]
    assert {s["county"] for s in ref.river_sections(shipped)} == set(ref.county_codes(shipped))
    broken = copy.deepcopy(shipped)
    broken["rivers"]["rivers"][0]["water_quality"] = "VI"
    broken["rivers"]["rivers"][1]["tributary_of"] = "nile"
    broken["river_sections"]["sections"][0].update(river="nile", county="liaocheng")
    broken["river_sections"]["sections"][1]["code"] = broken["river_sections"]["sections"][0][
        "code"
    ]
    assert check_reference(broken) == [
        "rivers.yaml: rivers[0].water_quality: must be one of I, II, III, IV, V, 劣V",
        "rivers.yaml: rivers[1].tributary_of: unknown river 'nile'",
        "river_sections.yaml: sections[0].river: unknown river 'nile'",
        "river_sections.yaml: sections[0].county: 'liaocheng' is not a county or zone",
        "river_sections.yaml: sections[1].code: 'dongchangfu-xiaoyunhe' appears twice",
    ]
