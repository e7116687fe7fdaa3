"""The case page and its forms over HTTP (TestClient on the console's app): errors at their
inputs, one firing per idempotency key, a stale version, another county's case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.handlers import Actor
from engine.views import CaseView
from tests.console.conftest import PASSWORD, Console

CLERK = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")


def signed_client(console: Console, username: str) -> TestClient:
    client = TestClient(console.app)
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "login_token": token[1], "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture(scope="module")
def clerk(console: Console) -> Iterator[TestClient]:
    with signed_client(console, "dongchangfu.eeb") as client:
        yield client


def a_case(console: Console, workflow: str, state: str) -> CaseView:
    found = [v for v in console.engine.list_cases(CLERK, workflow=workflow) if v.state == state]
    assert found, f"the demo has a {workflow} case in {state} for the clerk"
    return found[0]


def hidden(html: str, form_action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``form_action``."""
    start = html.index(f'action="{form_action}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def field_block(html: str, name: str, form_action: str) -> str:
    """The block of input ``name`` in the form posting to ``form_action``."""
    html = html[html.index(f'action="{form_action}"') :]
    match = re.search(rf'<(div|fieldset) class="([^"]*)" data-field="{re.escape(name)}">', html)
    assert match is not None, f"no input block for {name}"
    end = html.index(f"</{match[1]}>", match.end())
    return match[2] + html[match.end() : end]


def test_the_page_shows_the_case_its_diagram_timers_history_and_forms(
    clerk: TestClient, console: Console
) -> None:
    case = a_case(console, "public_report", "investigating")
    page = clerk.get(f"/cases/{case.id}")
    assert page.status_code == 200
    html = page.text
    assert "群众举报" in html
    assert case.state_title in html
    assert "东昌府区" in html  # the jurisdiction's name
    assert re.search(r'<g class="state visited current"[^>]*data-state="investigating"', html)
    assert "剩余" in html
    assert "个工作日" in html
    assert "办理记录" in html
    assert "立案" in html
    assert 'aria-label="核实不属实"' in html
    assert 'aria-label="核实属实"' in html
    assert 'style="' not in html
    assert "<script>" not in html


def test_a_payload_breaking_its_schema_shows_each_error_at_its_input(
    clerk: TestClient, console: Console
) -> None:
    case = a_case(console, "public_report", "investigating")
    action = f"/cases/{case.id}/fire/conclude_founded"
    form = hidden(clerk.get(f"/cases/{case.id}").text, action)
    answer = clerk.post(action, data={**form, "finding": "", "found": ["violation"]})
    assert answer.status_code == 422
    html = answer.text
    finding = field_block(html, "finding", action)
    assert "field-error" in finding
    assert "必填" in finding
    found = field_block(html, "found", action)
    assert "field-error" not in found.split(">")[0]
    assert 'value="violation" checked' in found  # the form as submitted
    assert "请修改以下内容" in html
    assert len(console.engine.history(case.id, CLERK)) == 2  # nothing fired


def test_a_stale_version_says_the_case_moved_on(clerk: TestClient, console: Console) -> None:
    case = a_case(console, "public_report", "investigating")
    action = f"/cases/{case.id}/fire/conclude_unfounded"
    form = hidden(clerk.get(f"/cases/{case.id}").text, action)
    form["_version"] = str(case.version - 1)
    answer = clerk.post(action, data={**form, "finding": "经核实不属实"})
    assert answer.status_code == 412
    assert "版本已变化" in answer.text
    assert console.engine.get_case(case.id, CLERK).state == "investigating"


def test_the_same_key_twice_fires_once(clerk: TestClient, console: Console) -> None:
    case = a_case(console, "rectification", "planning")
    before = len(console.engine.history(case.id, CLERK))
    action = f"/cases/{case.id}/fire/choose_mode"
    html = clerk.get(f"/cases/{case.id}").text
    assert 'aria-label="确定整治方式：规范整治"' in html
    forms = re.findall(r'name="_form" value="([^"]+)"', html)
    keys = re.findall(r'name="_key" value="([^"]+)"', html)
    assert len(set(keys)) == len(keys) == len(forms) == 3  # one key per form
    form: dict[str, Any] = hidden(html, action)
    index = [t.index for t in _transitions(console, case) if t.title.endswith("规范整治")][0]
    form.update(_form=str(index), _key=keys[forms.index(str(index))])
    first = clerk.post(action, data=form, follow_redirects=False)
    second = clerk.post(action, data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"/cases/{case.id}?done=1"
    history = console.engine.history(case.id, CLERK)
    assert len(history) == before + 1
    assert console.engine.get_case(case.id, CLERK).state == "regularising"
    shown = clerk.get(first.headers["location"]).text
    assert "已办理。案件当前状态：规范整治-施工中" in shown


def _transitions(console: Console, case: CaseView) -> list[Any]:
    _, d = console.engine.definition(case.case.workflow, case.case.workflow_version)
    return list(d.transitions)


def test_a_case_of_another_county_is_not_found(clerk: TestClient, console: Console) -> None:
    other = next(
        v
        for v in console.engine.list_cases()
        if v.case.jurisdiction != "dongchangfu"
        and not v.case.jurisdiction.startswith("dongchangfu")
    )
    answer = clerk.get(f"/cases/{other.id}")
    assert answer.status_code == 404
    assert other.case.workflow not in answer.text or "未找到" in answer.text


def test_a_confidential_field_the_reader_may_not_read_is_shown_as_secret(
    console: Console,
) -> None:
    reader = Actor("dongchangfu.gov", "county_gov", "dongchangfu")
    case = next(v for v in console.engine.list_cases(reader) if v.hidden)
    secret = next(iter(case.hidden))
    with signed_client(console, "dongchangfu.gov") as client:
        html = client.get(f"/cases/{case.id}").text
    # the field is listed, its value is not (as GET /api/v1/cases/{id} leaves it out)
    assert f"<dt>{secret}</dt><dd>（保密）</dd>" in html
    assert html.count(f"<dt>{secret}</dt>") == 1


def test_a_trigger_the_case_no_longer_offers_says_so(clerk: TestClient, console: Console) -> None:
    case = a_case(console, "public_report", "investigating")
    later = next(t for t in _transitions(console, case) if "investigating" not in t.sources)
    form = hidden(clerk.get(f"/cases/{case.id}").text, f"/cases/{case.id}/fire/conclude_unfounded")
    form["_form"] = str(later.index)
    answer = clerk.post(f"/cases/{case.id}/fire/{later.trigger}", data=form)
    assert answer.status_code == 409
    assert "该事项当前不能办理" in answer.text
    assert console.engine.get_case(case.id, CLERK).version == case.version


def test_a_malformed_case_number_is_a_page_in_chinese(clerk: TestClient) -> None:
    answer = clerk.get("/cases/abc")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "无法完成" in answer.text
