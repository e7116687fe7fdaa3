"""The administrators' workflow pages over a TestClient: the list with running cases per
version, the workflow page with its diff, the editor's check, scenario run and publishing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.console.editor import NEW_TEMPLATE
from engine.console.yaml_diff import side_by_side
from engine.handlers import Actor
from engine.store.tables import cases
from tests.attachkit import stand_ins
from tests.console.conftest import PASSWORD, Console

WORKFLOW = "public_report"
REPORT = {
    "channel": "snapshot",
    "county": "donge",
    "longitude": 116.25,
    "latitude": 36.33,
    "photos": ["photos/2025/03/0001.jpg"],
    "description": "河边有一根管子在排黑水",
    "sub_type": "industrial_enterprise",
}


class Client:
    def __init__(self, console: Console, username: str) -> None:
        self.http = TestClient(console.app, follow_redirects=False)
        form = self.http.get("/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', form)
        assert token is not None
        answer = self.http.post(
            "/login",
            data={"username": username, "password": PASSWORD, "login_token": token.group(1)},
        )
        assert answer.status_code == 303, answer.text
        found = re.search(r'data-csrf="([^"]+)"', self.http.get("/").text)
        assert found is not None
        self.csrf = found.group(1)

    def get(self, path: str) -> Any:
        return self.http.get(path)

    def check(self, name: str, text: str, csrf: bool = True) -> Any:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.post(f"/admin/workflows/{name}/check", content=text, headers=headers)

    def form(self, path: str, **fields: str) -> Any:
        return self.http.post(path, data={"csrf_token": self.csrf, **fields})


@pytest.fixture(scope="module")
def admin(console: Console) -> Client:
    return Client(console, "admin")


def _source(console: Console, name: str = WORKFLOW) -> tuple[int, str]:
    row, _definition = console.engine.definition(name)
    return row.version, row.source


def _broken(text: str) -> tuple[str, int]:
    """``text`` with an unknown key on a known line (the line's number)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines.insert(at + 1, "colour: red")
    return "\n".join(lines) + "\n", at + 2


def test_a_non_admin_gets_a_403_page_on_every_admin_route(console: Console) -> None:
    clerk = Client(console, "dongchangfu.eeb")
    for path in ("/admin/workflows", f"/admin/workflows/{WORKFLOW}", "/admin/workflows/new"):
        answer = clerk.get(path)
        assert answer.status_code == 403, path
        assert "无权访问" in answer.text
    assert clerk.get(f"/admin/workflows/{WORKFLOW}/edit").status_code == 403
    assert clerk.check(WORKFLOW, "name: x\n").status_code == 403
    version, text = _source(console)
    assert clerk.form(f"/admin/workflows/{WORKFLOW}/publish", text=text).status_code == 403
    assert _source(console)[0] == version


def test_the_check_lists_problems_with_line_and_column_as_the_validate_api(
    console: Console, admin: Client
) -> None:
    _version, text = _source(console)
    assert admin.check(WORKFLOW, text).json() == {"valid": True, "errors": []}
    broken, line = _broken(text)
    answer = admin.check(WORKFLOW, broken)
    assert answer.status_code == 200
    result = answer.json()
    assert result["valid"] is False
    assert [e["line"] for e in result["errors"]] == [line]
    assert result["errors"][0]["column"] == 1
    assert "colour" in result["errors"][0]["message"]
    assert set(result["errors"][0]) == {"path", "line", "column", "message"}
    # the same checking code as POST /api/v1/workflows/validate
    expected = console.engine.catalog.check_text(broken, "<body>")
    assert [(e["line"], e["column"], e["message"]) for e in result["errors"]] == [
        (p.line, p.column, p.message) for p in expected
    ]
    bad_indent = text.replace("\ntitle:", "\n   title:", 1)
    errors = admin.check(WORKFLOW, bad_indent).json()["errors"]
    assert errors
    assert errors[0]["line"] == 2


def test_the_check_needs_the_form_token_and_a_known_workflow(
    console: Console, admin: Client
) -> None:
    assert admin.check(WORKFLOW, "name: x\n", csrf=False).status_code == 403
    assert admin.check("no_such_flow", "name: x\n").status_code == 404


def test_a_text_naming_another_workflow_is_a_problem_on_its_name(
    console: Console, admin: Client
) -> None:
    _version, text = _source(console, "escalation")
    errors = admin.check(WORKFLOW, text).json()["errors"]
    assert [e["line"] for e in errors] == [1]


def test_publishing_with_problems_publishes_nothing(console: Console, admin: Client) -> None:
    version, text = _source(console)
    broken, line = _broken(text)
    answer = admin.form(f"/admin/workflows/{WORKFLOW}/publish", text=broken)
    assert answer.status_code == 422
    assert f"第 {line} 行 第 1 列" in answer.text
    assert "colour: red" in answer.text  # the admin's text stays in the editor
    assert _source(console)[0] == version


def test_publishing_makes_a_new_version_and_the_diff_shows_the_changed_lines(
    console: Console, admin: Client
) -> None:
    version, text = _source(console)
    changed = text.replace("title: 群众举报（随手拍/有奖举报）", "title: 群众举报（随手拍）", 1)
    assert changed != text
    answer = admin.form(f"/admin/workflows/{WORKFLOW}/publish", text=changed)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/workflows/{WORKFLOW}?published={version + 1}"
    row, _definition = console.engine.definition(WORKFLOW)
    assert (row.version, row.origin, row.origin_ref) == (version + 1, "api", "admin")
    page = admin.get(answer.headers["location"]).text
    assert f"已发布第 {version + 1} 版" in page
    assert "<svg" in page
    assert "http://" not in page
    assert "https://" not in page
    assert re.search(r'<td class="code del">title: 群众举报（随手拍/有奖举报）</td>', page)
    assert re.search(r'<td class="code ins">title: 群众举报（随手拍）</td>', page)
    same = admin.form(f"/admin/workflows/{WORKFLOW}/publish", text=changed)
    assert same.headers["location"] == f"/admin/workflows/{WORKFLOW}?unchanged=true"
    assert "内容未变化" in admin.get(same.headers["location"]).text
    assert _source(console)[0] == version + 1
    diff = admin.get(f"/admin/workflows/{WORKFLOW}?from={version + 1}&to={version}").text
    assert '<td class="code del">title: 群众举报（随手拍）</td>' in diff


def _open_counts(console: Console, name: str) -> dict[int, int]:
    with console.engine.store.read() as tx:
        rows = tx.conn.execute(
            select(cases.c.workflow_version, func.count())
            .where(cases.c.workflow == name, cases.c.is_open.is_(True))
            .group_by(cases.c.workflow_version)
        )
        return {int(v): int(n) for v, n in rows}


def test_the_pages_count_running_cases_on_each_version(console: Console, admin: Client) -> None:
    version, text = _source(console)
    if version == 1:
        changed = text.replace("title: 群众举报（随手拍/有奖举报）", "title: 群众举报", 1)
        admin.form(f"/admin/workflows/{WORKFLOW}/publish", text=changed)
    desk = Actor("12345热线", "public")
    console.engine.create_case(WORKFLOW, stand_ins(console.engine, desk, WORKFLOW, REPORT), desk)
    counts = _open_counts(console, WORKFLOW)
    assert len(counts) >= 2  # cases on the first version and on the latest one
    latest = _source(console)[0]
    assert counts[latest] >= 1
    listing = admin.get("/admin/workflows").text
    row = next(r for r in listing.split("<tr>") if f"/admin/workflows/{WORKFLOW}/edit" in r)
    for number, count in counts.items():
        assert f"第 {number} 版 {count} 件" in row
    assert f"共 {sum(counts.values())} 件" in row
    page = admin.get(f"/admin/workflows/{WORKFLOW}").text
    for number, count in counts.items():
        assert re.search(
            rf'<td class="num">第 {number} 版</td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>[^<]*</td>\s*'
            rf'<td class="num">{count}</td>',
            page,
        ), number


def test_the_scenarios_run_against_the_draft(console: Console, admin: Client) -> None:
    _version, text = _source(console, "retained_list")
    passed = admin.form("/admin/workflows/retained_list/simulate", text=text)
    assert passed.status_code == 200
    assert "通过" in passed.text
    assert "未通过" not in passed.text
    assert "retained_list.yaml" in passed.text
    assert "第 1 步" in passed.text
    renamed = re.sub(r"(?m)^title: .*$", "title: 改过的标题", text, count=1)
    assert "通过" in admin.form("/admin/workflows/retained_list/simulate", text=renamed).text
    broken, _line = _broken(text)
    refused = admin.form("/admin/workflows/retained_list/simulate", text=broken).text
    assert "请先修正" in refused


def test_the_editor_loads_the_latest_source_and_a_new_one_starts_from_a_template(
    console: Console, admin: Client
) -> None:
    _version, text = _source(console, "escalation")
    page = admin.get("/admin/workflows/escalation/edit")
    assert page.status_code == 200
    assert 'id="source"' in page.text
    assert 'data-check-url="/admin/workflows/escalation/check"' in page.text
    assert "运行模拟场景" in page.text
    new = admin.get("/admin/workflows/new").text
    assert "name: new_workflow" in new
    assert admin.get("/admin/workflows/no_such_flow").status_code == 404


def test_the_diff_folds_unchanged_runs_and_pairs_changed_lines() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 5", "line five").replace("line 15\n", "") + "\nline 21"
    rows = side_by_side(old, new)
    kinds = [(r.kind, r.left_no, r.right_no) for r in rows if r.kind != "same"]
    assert kinds == [
        ("fold", None, None),
        ("changed", 5, 5),
        ("fold", None, None),
        ("removed", 15, None),
        ("added", None, 20),
    ]
    folds = [r.folded for r in rows if r.kind == "fold"]
    assert folds == [1, 3]  # line 1; lines 9-11
    assert side_by_side(old, old) == []


def test_a_new_workflow_is_checked_and_published_from_the_template(
    console: Console, admin: Client
) -> None:
    text = NEW_TEMPLATE.replace("name: new_workflow", "name: trial_flow")
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-CSRF-Token": admin.csrf}
    checked = admin.http.post("/admin/workflows/check", content=text, headers=headers)
    assert checked.json() == {"valid": True, "errors": []}
    broken = text.replace("    dest: done\n", "    dest: nowhere\n")
    errors = admin.http.post("/admin/workflows/check", content=broken, headers=headers).json()
    assert errors["valid"] is False
    assert all(e["line"] > 1 for e in errors["errors"])
    answer = admin.form("/admin/workflows/publish", text=text)
    assert answer.headers["location"] == "/admin/workflows/trial_flow?published=1"
    assert "已发布第 1 版" in admin.get(answer.headers["location"]).text
    assert "trial_flow" in admin.get("/admin/workflows").text
