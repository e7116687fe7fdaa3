"""The outfall's public page (/o/{code}), its sign board and QR files, over the demo city,
without signing in: the whitelisted facts, 404s in Chinese, validators, the strict headers,
and no confidential value on any /o/ page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import PIL.Image
import pytest
import zxingcpp
from fastapi.testclient import TestClient

from engine.api.headers import HTML_POLICY
from engine.handlers import Actor
from handlers.ledger import Ledger, OutfallView
from handlers.ledger.idcard import record_url
from handlers.ledger.io import LABELS
from handlers.public.web import SITE
from handlers.reference import data as ref
from tests.public.conftest import Console


def _shown(html: str) -> str:
    """The text a reader sees: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _outfalls(console: Console) -> list[OutfallView]:
    return Ledger(console.engine).list(SITE, limit=1000)


def _approved_and_rectified(console: Console) -> OutfallView:
    """A demo outfall set up by approval whose rectification was de-listed (销号)."""
    ledger = Ledger(console.engine)
    for view in _outfalls(console):
        record = view.record
        if record.get("setup_basis") == "approval" and record.get("rectification_mode"):
            full = ledger.get(view.code, SITE)
            if any(c.workflow == "rectification" and c.state == "delisted" for c in full.cases):
                return full
    raise AssertionError("the demo has no approved, de-listed outfall")


def test_the_page_shows_the_outfalls_public_facts(console: Console, anonymous: TestClient) -> None:
    view = _approved_and_rectified(console)
    record, reference = view.record, console.engine.reference
    answer = anonymous.get(f"/o/{view.code}")
    assert answer.status_code == 200
    text = answer.text
    sub_type = ref.sub_type(reference, record["sub_type"])
    river = ref.river(reference, record["river"])
    assert sub_type is not None
    assert river is not None
    expected = [
        view.code,
        record["name"],
        sub_type["name"],
        river["name"],
        ref.jurisdiction_name(reference, record["county"]),
        record["responsible_party"],
        record["setup_decision"],
        record["setup"]["decided_on"],
        LABELS["rectification_status"][record["rectification_status"]],
        LABELS["rectification_mode"][record["rectification_mode"]],
        "整治完成，销号",  # the latest public decision
        f'href="/report?outfall={view.code}"',
        "随手拍举报",
    ]
    for code in ref.departments_for(reference, record["sub_type"]):
        department = ref.department(reference, code)
        assert department is not None
        expected.append(str(department["name"]).removeprefix("市"))
    missing = [value for value in expected if value not in text]
    assert missing == []
    assert record["sub_type"] not in text  # names, not codes
    assert record["local_code"] not in text  # a ledger field the page does not name


def test_the_latest_decision_of_a_registered_outfall_is_its_registration(
    console: Console, anonymous: TestClient
) -> None:
    view = next(
        v
        for v in _outfalls(console)
        if v.record.get("setup_basis") == "registration"
        and v.record.get("rectification_status") != "done"  # no 销号 after the registration
    )
    text = _shown(anonymous.get(f"/o/{view.code}").text)
    assert "登记编号" in text
    assert f"登记备案 · {view.record['setup_decision']}" in text


def test_an_unknown_code_is_a_404_page_in_chinese(anonymous: TestClient) -> None:
    for path in ("/o/371502-99-999", "/o/371502-99-999/sign", "/o/371502-99-999/qr.png"):
        answer = anonymous.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "未找到该排污口" in answer.text
        assert "371502-99-999" in answer.text


def test_pages_are_public_cached_and_answer_304(console: Console, anonymous: TestClient) -> None:
    code = _outfalls(console)[0].code
    for path in (f"/o/{code}", f"/o/{code}/sign", f"/o/{code}/qr.png", f"/o/{code}/qr.svg"):
        first = anonymous.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"].startswith("public, max-age="), path
        assert first.headers["x-frame-options"] == "DENY"
        assert first.headers["x-content-type-options"] == "nosniff"
        again = anonymous.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path
        assert again.content == b""
    page = anonymous.get(f"/o/{code}")
    assert page.headers["content-security-policy"] == HTML_POLICY
    assert anonymous.post(f"/o/{code}").status_code == 405  # read-only


def test_the_qr_files_encode_the_public_page(console: Console, anonymous: TestClient) -> None:
    code = _outfalls(console)[0].code
    png = anonymous.get(f"/o/{code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    [found] = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png.content)))
    assert found.text == record_url(console.settings.public_base_url, code)
    assert found.text.endswith(f"/o/{code}")
    svg = anonymous.get(f"/o/{code}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.parametrize("size", ["a4", "a5"])
def test_the_sign_sheet_has_the_qr_svg_and_the_print_stylesheet(
    console: Console, anonymous: TestClient, size: str
) -> None:
    view = _approved_and_rectified(console)
    answer = anonymous.get(f"/o/{view.code}/sign?size={size}")
    assert answer.status_code == 200
    text = answer.text
    assert '<svg viewBox="' in text
    assert 'class="segno"' in text
    assert "<path" in text
    assert f'<link rel="stylesheet" href="/static/public/sign-{size}.css">' in text
    assert '<script src="/static/public/print.js" defer></script>' in text
    for value in (view.code, view.record["name"], view.record["responsible_party"]):
        assert value in text
    assert "监督举报单位" in text
    assert "聊城市生态环境局" in text
    assert record_url(console.settings.public_base_url, view.code) in text
    # the CSP allows no inline style or script
    assert "style=" not in text
    assert "<style" not in text
    assert "<script>" not in text
    sheet = anonymous.get(f"/static/public/sign-{size}.css").text
    assert f"@page {{ size: {size.upper()} portrait;" in sheet
    assert "@media print" in anonymous.get("/static/public/sign.css").text
    assert "window.print()" in anonymous.get("/static/public/print.js").text


def test_a_natural_persons_name_is_masked_on_the_page_and_the_sign(
    console: Console, anonymous: TestClient
) -> None:
    ledger, admin = Ledger(console.engine), Actor("test-admin", "admin")
    view = _approved_and_rectified(console)
    before = view.record["responsible_party"]
    ledger.update(view.code, {"responsible_party": "王小明"}, admin)  # a person, not a unit
    try:
        for path in (f"/o/{view.code}", f"/o/{view.code}/sign"):
            text = anonymous.get(path).text
            assert "王**" in text
            assert "王小明" not in text
            assert "小明" not in text
    finally:
        ledger.update(view.code, {"responsible_party": before}, admin)
    assert before in anonymous.get(f"/o/{view.code}").text  # a unit's name is shown in full


def test_an_unknown_size_is_a4(console: Console, anonymous: TestClient) -> None:
    code = _outfalls(console)[0].code
    assert "sign-a4.css" in anonymous.get(f"/o/{code}/sign?size=b5").text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _confidential_values(console: Console) -> set[str]:
    """Every string in a confidential field of a demo case (opened), reporters' names and
    phones included."""
    engine = console.engine
    found: set[str] = set()
    with engine.store.read() as tx:
        for row in tx.latest_definitions():
            _, definition = engine.definition(row.name)
            if not definition.confidential:
                continue
            for case in tx.list_cases(workflow=row.name, limit=100_000):
                _, d = engine.definition(case.workflow, case.workflow_version)
                opened = engine.sealer.open(d, case.id, case.data)
                for name in d.confidential:
                    found |= set(_strings(opened.get(name)))
    # the spot-check targets are outfall codes: which outfalls were drawn is the secret, not
    # the code an outfall's own page shows
    codes = {view.code for view in _outfalls(console)}
    return {value for value in found if len(value) >= 2} - codes


def test_no_confidential_value_appears_on_any_outfall_page(
    console: Console, anonymous: TestClient
) -> None:
    secrets = _confidential_values(console)
    reporters = [s for s in secrets if s.isdigit() and len(s) >= 11]
    assert reporters, "the demo's public reports name no reporter's phone: the test needs one"
    leaked: set[tuple[str, str]] = set()
    for view in _outfalls(console):
        for path in (f"/o/{view.code}", f"/o/{view.code}/sign", f"/o/{view.code}/sign?size=a5"):
            text = anonymous.get(path).text
            leaked |= {(path, s) for s in secrets if s in text}
    assert leaked == set()
