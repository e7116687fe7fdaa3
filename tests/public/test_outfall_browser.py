"""The QR code on an outfall's ID card, decoded and followed in Chromium at a phone's size,
lands on the outfall's public page; its sign board opens at a desktop's size. Neither page
breaks the CSP (no inline style or script) nor asks another host for anything."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import PIL.Image
import zxingcpp

from handlers.ledger import Ledger
from handlers.ledger.idcard import write_card
from handlers.public.web import SITE
from tests.public.conftest import Console, open_page, screenshot


def _watch_console(page: Any) -> list[str]:
    """The browser's console errors (a CSP violation is one)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_the_id_cards_qr_code_opens_the_outfalls_page_on_a_phone(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    ledger = Ledger(console.engine)
    view = next(v for v in ledger.list(SITE, limit=100) if v.record.get("responsible_party"))
    base = console.settings.public_base_url
    paths = write_card(ledger, view.code, tmp_path, base, SITE)
    [found] = zxingcpp.read_barcodes(PIL.Image.open(paths["png"]))
    assert found.text == f"{base}/o/{view.code}"

    phone = open_page(browser, console, width=390, height=844)
    errors = _watch_console(phone)
    try:
        phone.goto(console.url + found.text.removeprefix(base))
        assert phone.get_by_role("heading", level=1).inner_text() == view.record["name"]
        assert view.code in phone.locator("main").inner_text()
        report = phone.get_by_role("link", name="随手拍举报")
        assert report.get_attribute("href") == f"/report?outfall={view.code}"
        # phone first: nothing wider than the screen
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "public-outfall-phone")
        assert errors == []
        assert phone.offsite.requests == []
    finally:
        phone.context.close()


def test_the_sign_board_sheet_opens_with_its_qr_code(page: Any, console: Console) -> None:
    view = Ledger(console.engine).list(SITE, limit=1)[0]
    errors = _watch_console(page)
    page.goto(console.at(f"/o/{view.code}/sign"))
    sign = page.get_by_role("main", name="入河排污口标识牌")
    assert view.record["name"] in sign.inner_text()
    qr = sign.locator("svg.segno")
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert page.get_by_role("button", name="打印").is_visible()
    screenshot(page, "public-sign")
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="打印").is_visible()  # the sheet prints alone
    assert errors == []


# PDF points (1/72 in) of the portrait sheets
PAPER = {"a4": (595, 842), "a5": (420, 595)}


def test_the_sign_board_prints_on_one_sheet_of_its_size(page: Any, console: Console) -> None:
    code = Ledger(console.engine).list(SITE, limit=1)[0].code
    for size, (width, height) in PAPER.items():
        page.goto(console.at(f"/o/{code}/sign?size={size}"))
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(boxes) == 1, size  # one board, one sheet
        assert (round(float(boxes[0][0])), round(float(boxes[0][1]))) == (width, height)
