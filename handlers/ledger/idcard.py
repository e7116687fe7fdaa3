"""The outfall ID card (身份证式管理): a QR code (PNG and SVG, segno) that encodes the address
of the outfall's public page (``<public_base_url>/o/<code>``, handlers/public/outfall.py: no
sign-in, the code being its last segment), and a one-page, self-contained HTML record of the
outfall with the QR code inline and its history: screening, responsibility, rectification,
approval and supervision (every case about it, with its events)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno

from engine.handlers import Actor
from engine.store.repository import CaseRow, EventRow
from handlers.dates import CST
from handlers.ledger import Ledger
from handlers.ledger.io import COLUMNS, CellWriter
from handlers.titles import Titles

__all__ = ["Card", "SECTIONS", "qr", "record_url", "render_html", "write_card"]

# History sections of the card: title and the workflows whose cases go there (others go last).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("溯源与责任主体", ("responsibility",)),
    ("整治与销号", ("rectification",)),
    ("设置审批与备案", ("setup_approval",)),
    ("监督检查", ("effectiveness_check", "enforcement", "public_report", "escalation")),
)


def record_url(base_url: str, code: str) -> str:
    """What the outfall's QR code encodes: its public page, ``<base_url>/o/<code>``, which
    anyone reaches without signing in (the API's ``/api/v1/outfalls/<code>`` asks a token)."""
    return f"{base_url.rstrip('/')}/o/{quote(code, safe='')}"


def qr(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m", micro=False)


@dataclass(frozen=True)
class CaseHistory:
    case: CaseRow
    events: list[EventRow]


@dataclass(frozen=True)
class Card:
    code: str
    url: str
    record: dict[str, Any]
    created_at: str
    histories: list[CaseHistory]


def _escalations_of(ledger: Ledger, cases: list[CaseRow], actor: Actor | None) -> list[CaseRow]:
    """Escalation cases (subject = the unit held to account) raised from this outfall's cases:
    opened from one of them, or named by one of them (a ladder shared by a county's cases)."""
    ids = {c.id for c in cases}
    named = {c.data.get("escalation_case_id") for c in cases} - {None}
    found: list[CaseRow] = []
    after = 0
    with ledger.engine.store.read() as tx:
        while True:
            batch = tx.list_cases(workflow="escalation", after_id=after, limit=500)
            found += [
                c
                for c in batch
                if (c.data.get("source_case_id") in ids or c.id in named)
                and ledger.engine.may_read(tx, c, actor)
            ]
            if len(batch) < 500:
                return found
            after = batch[-1].id


def build_card(ledger: Ledger, code: str, base_url: str, actor: Actor | None = None) -> Card:
    view = ledger.get(code, actor)
    cases = list(view.cases)
    cases += [c for c in _escalations_of(ledger, cases, actor) if c not in cases]
    histories = [CaseHistory(c, ledger.engine.history(c.id, actor)) for c in cases]
    return Card(code, record_url(base_url, code), view.record, view.created_at, histories)


# -- rendering --------------------------------------------------------------------------------

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;
margin:24px;color:#1d2733;font-size:13px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;border-bottom:2px solid #1f6f8b;
padding-bottom:3px;margin:18px 0 6px}h3{font-size:13px;margin:10px 0 4px}
.head{display:flex;justify-content:space-between;gap:24px}.qr{text-align:center}
.qr svg{width:150px;height:150px}.url{font-size:10px;word-break:break-all;max-width:180px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #c9d3dc;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#eef3f6;font-weight:600;white-space:nowrap}
.fields th{width:7em}.muted{color:#687785}.open{color:#b35c00}.closed{color:#2c7a3f}
@media print{body{margin:10mm}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fields_table(card: Card, writer: CellWriter) -> str:
    values = writer.row(card.record)
    cells = [
        f"<tr><th>{_e(c.header)}</th><td>{_e(v)}</td></tr>"
        for c, v in zip(COLUMNS, values, strict=True)
        if v not in (None, "")
    ]
    return '<table class="fields">' + "".join(cells) + "</table>"


def _payload_text(event: EventRow) -> str:
    shown = {k: v for k, v in event.payload.items() if not str(k).startswith("_")}
    return json.dumps(shown, ensure_ascii=False) if shown else ""


def _events_table(history: CaseHistory, titles: Titles) -> str:
    c = history.case
    rows = []
    for e in history.events:
        what = titles.trigger(c.workflow, e.trigger, c.workflow_version, e.transition) or (
            "立案" if e.kind == "created" else e.kind
        )
        states = [s for s in (e.from_state, e.to_state) if s]
        if len(states) == 2 and states[0] == states[1]:
            states = states[:1]  # an internal transition: the case stayed where it was
        move = " → ".join(titles.state(c.workflow, s, c.workflow_version) for s in states)
        rows.append(
            f"<tr><td>{_e(e.at.astimezone(CST).strftime('%Y-%m-%d %H:%M'))}</td><td>{_e(what)}</td>"
            f"<td>{_e(move)}</td><td>{_e(e.actor)}<span class=muted> ({_e(e.role)})</span></td>"
            f"<td>{_e(_payload_text(e))}</td></tr>"
        )
    head = "<tr><th>时间</th><th>事项</th><th>状态</th><th>经办</th><th>内容</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _case_block(history: CaseHistory, titles: Titles) -> str:
    c = history.case
    status = (
        '<span class="open">办理中</span>' if c.is_open else '<span class="closed">已办结</span>'
    )
    title = titles.workflow(c.workflow, c.workflow_version)
    state = titles.state(c.workflow, c.state, c.workflow_version)
    return f"<h3>{_e(title)} · 案件 #{c.id} · {_e(state)} {status}</h3>" + _events_table(
        history, titles
    )


def _sections(histories: Sequence[CaseHistory]) -> Iterable[tuple[str, list[CaseHistory]]]:
    placed: set[int] = set()
    for title, workflows in SECTIONS:
        chosen = [h for h in histories if h.case.workflow in workflows]
        placed |= {h.case.id for h in chosen}
        yield title, chosen
    rest = [h for h in histories if h.case.id not in placed]
    if rest:
        yield "其他", rest


def render_html(card: Card, reference: Mapping[str, Any], titles: Titles) -> str:
    writer = CellWriter(reference)
    svg = qr(card.url).svg_inline(scale=4, title=card.code)
    name = card.record.get("name", "")
    found = card.record.get("found_at") or card.created_at[:10]
    parts = [
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>",
        f"<title>{_e(card.code)} {_e(name)} · 入河排污口身份证</title><style>{CSS}</style></head>",
        "<body><div class=head><div>",
        f"<h1>入河排污口身份证 · {_e(name)}</h1>",
        f"<div class=muted>编码 {_e(card.code)}</div>",
        "<h2>基本信息</h2>",
        _fields_table(card, writer),
        "</div><div class=qr>",
        svg,
        f"<div><b>{_e(card.code)}</b></div><div class=url>{_e(card.url)}</div></div></div>",
        "<h2>排查</h2>",
        f"<p>{_e(found)} 排查发现，{_e(card.created_at[:10])} 录入动态管理台账。</p>",
    ]
    for title, chosen in _sections(card.histories):
        parts.append(f"<h2>{_e(title)}</h2>")
        if not chosen:
            parts.append("<p class=muted>暂无记录</p>")
        parts += [_case_block(h, titles) for h in chosen]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_card(
    ledger: Ledger, code: str, out_dir: str | Path, base_url: str, actor: Actor | None = None
) -> dict[str, Path]:
    """Write ``<code>.png``, ``<code>.svg`` and ``<code>.html`` into ``out_dir``."""
    card = build_card(ledger, code, base_url, actor)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    code_qr = qr(card.url)
    paths = {kind: folder / f"{code}.{kind}" for kind in ("png", "svg", "html")}
    code_qr.save(str(paths["png"]), kind="png", scale=8, border=4)
    code_qr.save(str(paths["svg"]), kind="svg", scale=8, border=4, title=code)
    paths["html"].write_text(
        render_html(card, ledger.reference, Titles(ledger.engine)), encoding="utf-8"
    )
    return paths
