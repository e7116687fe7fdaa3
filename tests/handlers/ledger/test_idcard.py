"""The outfall ID card: QR code files and the one-page record with the outfall's history."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from engine.handlers import Actor
from handlers.ledger import Ledger, OutfallNotFound
from handlers.ledger.idcard import build_card, qr, record_url, write_card
from tests.handlers.conftest import Record

BASE = "https://hb.liaocheng.example/"
PNG = b"\x89PNG\r\n\x1a\n"


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_qr_code_holds_the_address_of_the_public_page() -> None:
    url = record_url(BASE, "371502-0001")
    assert url == "https://hb.liaocheng.example/o/371502-0001"
    code = qr(url)
    assert code.error == "M"
    assert code.mode == "byte"
    assert not code.is_micro


def test_card_files_png_svg_and_html(
    ledger: Ledger, admin: Actor, record: Record, tmp_path: Path
) -> None:
    ledger.add(record(name="东昌府区<化工>1号排污口"), admin)
    [case] = ledger.get("371502-0001").cases
    eeb = Actor("东昌府区生态环境分局", "county_eeb", "dongchangfu")
    ledger.engine.fire(
        case.id, "identify", eeb, {"responsible_party": "某化工公司", "needs_rectification": True}
    )
    paths = write_card(ledger, "371502-0001", tmp_path / "cards", BASE)
    assert sorted(p.name for p in paths.values()) == [
        "371502-0001.html",
        "371502-0001.png",
        "371502-0001.svg",
    ]
    assert paths["png"].read_bytes().startswith(PNG)
    svg = ET.parse(paths["svg"]).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(svg.get("width", "0")) > 100

    page = paths["html"].read_text(encoding="utf-8")
    parsed = Collect()
    parsed.feed(page)
    text = "".join(parsed.text)
    assert "svg" in parsed.tags  # the QR code is inline: the page stands alone
    assert "script" not in parsed.tags
    assert "<link" not in page
    assert "东昌府区&lt;化工&gt;1号排污口" in page  # escaped
    assert "https://hb.liaocheng.example/o/371502-0001" in text
    assert "工矿企业排污口" in text  # names, not codes
    assert "某化工公司" in text
    for section in ("排查", "溯源与责任主体", "整治与销号", "设置审批与备案", "监督检查"):
        assert section in text
    assert "溯源确定排污单位（谁污染、谁治理）" in text  # the transition's title
    assert "溯源中 → 责任主体已确定" in text
    assert "制定整治方案" in text  # the rectification case it opened


def test_no_card_for_an_unknown_or_unseen_outfall(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    with pytest.raises(OutfallNotFound):
        build_card(ledger, "371502-9999", BASE)
    ledger.add(record(), admin)
    with pytest.raises(OutfallNotFound):
        build_card(ledger, "371502-0001", BASE, Actor("x", "county_eeb", "yanggu"))
