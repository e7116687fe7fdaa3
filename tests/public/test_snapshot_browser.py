"""A reporter files a 随手拍 with a photo on a phone, in a real browser: the page's script
fills the location from the phone and solves the challenge, the receipt code comes back, and
the status page shows the county's action."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.handlers import Actor
from handlers.public import receipts
from handlers.public.limits import ReportLimits
from tests.public.conftest import Console, open_page, screenshot
from tests.public.reports import png

COUNTY = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")
HERE = {"longitude": 115.987654, "latitude": 36.456789}


@pytest.fixture(scope="module", autouse=True)
def quick(console: Console) -> Iterator[None]:
    """12 bits: about 4 000 hashes in the page's JavaScript."""
    console.app.state.report_limits = ReportLimits(bits=12)
    yield
    del console.app.state.report_limits


@pytest.fixture
def phone(browser: Any, console: Console) -> Iterator[Any]:
    found = open_page(browser, console, 390, 844)
    found.context.grant_permissions(["geolocation"], origin=console.url)
    found.context.set_geolocation(HERE)
    yield found
    offsite = found.offsite.requests
    found.context.close()
    assert offsite == [], f"the page sent requests to other hosts: {offsite}"


def test_a_reporter_files_a_photo_and_follows_the_receipt(
    phone: Any, console: Console, tmp_path: Path
) -> None:
    photo = tmp_path / "排口.png"
    photo.write_bytes(png(32, 24))
    phone.goto(console.at("/report"))
    form = phone.get_by_role("form", name="随手拍举报")
    # the phone's location, filled in by the page's script
    form.get_by_label("经度").wait_for()
    phone.wait_for_function("document.getElementById('longitude').value !== ''")
    assert form.get_by_label("经度").input_value() == "115.987654"
    assert form.get_by_label("纬度").input_value() == "36.456789"
    form.get_by_label("拍照或选择照片").set_input_files(str(photo))
    assert "已选择 1 张" in phone.locator("#photos-count").inner_text()
    form.get_by_label("所在区县").select_option("dongchangfu")
    form.get_by_label("地点描述").fill("徒骇河东昌府区段桥下东侧")
    form.get_by_label("问题描述").fill("排口冒黑水，有刺鼻气味")
    form.get_by_label("姓名").fill("李四")
    form.get_by_label("联系电话").fill("13900139000")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "public-report-phone")

    form.get_by_role("button", name="提交举报").click()
    code = phone.locator("#receipt-code").inner_text()
    assert receipts.normalise(code) is not None
    screenshot(phone, "public-report-receipt-phone")
    case_id = receipts.case_of(console.engine, code)
    case = console.engine.get_case(case_id, COUNTY)
    assert case.data["longitude"] == HERE["longitude"]
    (attached,) = case.data["photos"]
    assert attached["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert case.data["reporter"] == {"name": "李四", "phone": "13900139000"}

    console.engine.fire(case_id, "start_investigation", COUNTY)
    phone.get_by_role("link", name="查看办理进度").click()
    assert phone.locator("#state").inner_text() == "调查核实中"
    page = phone.content()
    assert "李四" not in page
    assert "13900139000" not in page
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "public-receipt-phone")


def test_the_pages_sha256_is_sha256(phone: Any, console: Console) -> None:
    phone.goto(console.at("/report"))
    texts = ["", "abc", "a" * 55, "a" * 56, "a" * 64, "v1.1." + "f" * 120 + ":123456"]
    for text in texts:
        found = phone.evaluate("text => window.qingliuSha256Hex(text)", text)
        assert found == hashlib.sha256(text.encode()).hexdigest(), text
