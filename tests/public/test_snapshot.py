"""随手拍 over HTTP: the form, the case it opens with the reporter sealed, the receipt, and the
flood protection (token, challenge, rate limits)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.api.tokens import create_token
from engine.console.accounts import Accounts
from engine.errors import ConfigError, FieldError, InvalidInput, TokenError
from engine.handlers import Actor
from engine.store.tables import attachments, cases, public_receipts, public_report_hits
from handlers.ledger.service import Ledger
from handlers.public import challenge, receipts
from handlers.public.filing import PUBLIC
from handlers.public.limits import ReportLimits, address_key
from handlers.public.report_form import from_invalid
from handlers.public.web import SITE
from tests.public.conftest import Console
from tests.public.reports import FIELDS, file, form_of, png

COUNTY = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")
HOUSING = Actor("市住建局", "housing_city", "liaocheng")


@pytest.fixture(scope="module", autouse=True)
def easy(console: Console) -> Iterator[None]:
    """A challenge of 4 bits: solved in Python in a few dozen hashes."""
    console.app.state.report_limits = ReportLimits(bits=4)
    yield
    del console.app.state.report_limits


def _from(console: Console, address: str) -> TestClient:
    return TestClient(console.app, client=(address, 50000))


def _reports(console: Console) -> int:
    return len(console.engine.list_cases(None, workflow="public_report"))


def _code(page: str) -> str:
    found = re.search(r'id="receipt-code">([0-9A-Z-]+)<', page)
    assert found, page[:2000]
    return found.group(1)


def test_the_form_is_phone_first_in_chinese_with_no_inline_script(anonymous: TestClient) -> None:
    answer = anonymous.get("/report")
    assert answer.status_code == 200
    page = answer.text
    assert 'type="file" id="photos" name="photos" accept="image/*" capture="environment"' in page
    assert "multiple" in page
    assert '<label for="photos">' in page
    assert "<script>" not in page
    assert "style=" not in page
    assert '<script src="/static/public/sha256.js"' in page
    assert answer.headers["cache-control"] == "no-store"
    assert "qingliu_report=" in answer.headers["set-cookie"]
    assert "东昌府区" in page
    assert "聊城经济技术开发区" in page
    for name in ("sha256.js", "report.js", "report.css"):
        assert anonymous.get(f"/static/public/{name}").status_code == 200


def test_an_outfall_prefills_its_place(console: Console, anonymous: TestClient) -> None:
    outfall = Ledger(console.engine).list(SITE)[0].record
    page = anonymous.get(f"/report?outfall={outfall['code']}").text
    assert outfall["name"] in page
    assert f'value="{outfall["longitude"]}"' in page
    assert f'<option value="{outfall["county"]}" selected>' in page
    assert f'<option value="{outfall["sub_type"]}" selected>' in page
    assert "台账中没有" in anonymous.get("/report?outfall=NOSUCH-0001").text


def test_a_report_opens_a_case_the_receipt_follows_and_the_reporter_is_sealed(
    console: Console, anonymous: TestClient
) -> None:
    before = _reports(console)
    answer = file(anonymous, {**FIELDS, "anonymous": ""})
    assert answer.status_code == 200, answer.text
    code = _code(answer.text)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    assert _reports(console) == before + 1
    case_id = receipts.case_of(console.engine, code)
    # the reporter's details: the county desk reads them, another department does not
    assert console.engine.get_case(case_id, COUNTY).data["reporter"] == {
        "name": "张三",
        "phone": "13800138000",
    }
    seen = console.engine.get_case(case_id, HOUSING)
    assert "reporter" in seen.hidden
    view = console.engine.get_case(case_id, SITE)
    assert view.data["channel"] == "snapshot"
    assert view.data["county"] == "dongchangfu"
    (photo,) = view.data["photos"]
    assert (photo["type"], photo["name"]) == ("image/png", "p.png")
    assert console.engine.attachments.blobs.exists(photo["sha256"])
    assert view.data["assigned_department"] == "eeb_city"
    with console.engine.store.read() as tx:
        stored = tx.conn.execute(select(cases.c.data).where(cases.c.id == case_id)).scalar_one()
        hashes = list(tx.conn.execute(select(public_receipts.c.receipt_hash)).scalars())
    assert str(stored["reporter"]).startswith("sealed:v1:")
    assert code.replace("-", "") not in "".join(hashes)  # only the keyed hash is kept
    assert receipts.receipt_hash(console.engine, code.replace("-", "")) in hashes

    status = anonymous.get(f"/r/{code}")
    assert status.status_code == 200
    assert status.headers["cache-control"] == "no-store"
    assert '<strong id="state">已受理并分派</strong>' in status.text
    for secret in ("张三", "13800138000", "dongchangfu.eeb", "随手拍\u3000公众"):
        assert secret not in status.text

    console.engine.fire(case_id, "start_investigation", COUNTY)
    status = anonymous.get(f"/r/{code.lower().replace('-', ' ')}")
    assert '<strong id="state">调查核实中</strong>' in status.text
    assert status.text.count("<time>") == 2  # received, then investigating
    for secret in ("张三", "13800138000", "dongchangfu.eeb"):
        assert secret not in status.text

    typed = anonymous.get("/r", params={"code": code.lower()}, follow_redirects=False)
    assert (typed.status_code, typed.headers["location"]) == (303, f"/r/{code}")


def test_a_reply_and_a_reward_reach_the_receipt(console: Console, anonymous: TestClient) -> None:
    code = _code(file(anonymous).text)
    case_id = receipts.case_of(console.engine, code)
    city = Actor("liaocheng.eeb", "eeb_city", "liaocheng")
    engine = console.engine
    engine.fire(case_id, "start_investigation", COUNTY)
    finding = {"finding": "现场核实：某公司私设暗管（内部记录）", "found": ["other"]}
    engine.fire(case_id, "conclude_founded", COUNTY, finding)
    engine.fire(case_id, "decide_reward", city, {"rewarded": True, "reward_yuan": 500})
    assert "已作出奖励决定" in anonymous.get(f"/r/{code}").text
    engine.fire(case_id, "reply", city, {"reply": "经核实属实，已责令整改，奖励 500 元。"})
    page = anonymous.get(f"/r/{code}").text
    assert '<strong id="state">已答复举报人</strong>' in page
    assert "经核实属实，已责令整改，奖励 500 元。" in page
    assert "私设暗管" not in page
    assert "liaocheng.eeb" not in page


def test_a_wrong_receipt_code_is_404(anonymous: TestClient) -> None:
    for given in ("0000-0000-0000", "not-a-code", "U" * 12):
        answer = anonymous.get(f"/r/{given}")
        assert answer.status_code == 404
        assert "没有这个回执码的举报" in answer.text
    assert anonymous.get("/r", params={"code": "abc"}).status_code == 404
    assert anonymous.get("/r").status_code == 200


def test_field_problems_are_shown_in_chinese_at_the_field_with_the_values_kept(
    console: Console, anonymous: TestClient
) -> None:
    before = _reports(console)
    fields = {**FIELDS, "description": "", "phone": "call me", "longitude": "東經", "county": ""}
    answer = file(anonymous, fields, photos=[])
    assert answer.status_code == 422
    page = answer.text
    assert '<p class="field-error" id="description-error">请描述看到的问题' in page
    assert '<p class="field-error" id="phone-error">电话号码应为' in page
    assert '<p class="field-error" id="longitude-error">经度应为数字' in page
    assert '<p class="field-error" id="county-error">请选择问题所在的区县' in page
    assert '<p class="field-error" id="photos-error">请拍摄或选择 1 至 6 张照片' in page
    assert 'value="徒骇河东昌府区段桥下东侧"' in page
    assert 'value="张三"' in page
    out_of_range = file(anonymous, {**FIELDS, "latitude": "60"})
    assert out_of_range.status_code == 422
    assert "纬度应在 3.8 到 53.6 度之间" in out_of_range.text
    assert _reports(console) == before


def _uploads(console: Console) -> int:
    with console.engine.store.read() as tx:
        return len(tx.conn.execute(select(attachments.c.id)).all())


def test_a_photo_that_is_not_one_is_415_and_nothing_is_stored(
    console: Console, anonymous: TestClient
) -> None:
    before, uploads = _reports(console), _uploads(console)
    good = png(5, 7)  # bytes no other test sends
    photos = [("p.png", good, "image/png"), ("a.png", b"MZ\x90\x00", "image/png")]
    answer = file(anonymous, photos=photos)
    assert answer.status_code == 415
    assert '<p class="field-error" id="photos-error">只接受 JPG/PNG/WebP 照片' in answer.text
    assert 'value="徒骇河东昌府区段桥下东侧"' in answer.text
    broken = file(anonymous, photos=[("b.png", good[:40], "image/png")])  # a PNG cut short
    assert broken.status_code == 415
    assert "无法读取" in broken.text
    assert (_reports(console), _uploads(console)) == (before, uploads)
    assert not console.engine.attachments.blobs.exists(hashlib.sha256(good).hexdigest())


def test_a_photo_over_10_mb_is_413_and_nothing_is_stored(
    console: Console, anonymous: TestClient
) -> None:
    before, uploads = _reports(console), _uploads(console)
    large = png(6, 6) + b"\0" * (10 * 1024 * 1024)
    answer = file(anonymous, photos=[("big.png", large, "image/png")])
    assert answer.status_code == 413
    assert "照片过大：每张不超过 10 MB" in answer.text
    assert (_reports(console), _uploads(console)) == (before, uploads)
    assert not console.engine.attachments.blobs.exists(hashlib.sha256(large).hexdigest())


def test_a_report_the_engine_refuses_leaves_no_photo_behind(
    console: Console, anonymous: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, uploads = _reports(console), _uploads(console)
    good = png(7, 5)  # bytes no other test sends

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidInput("data", [FieldError("$.description", "too vague")])

    monkeypatch.setattr(console.engine, "create_case", refuse)
    answer = file(anonymous, photos=[("p.png", good, "image/png")])
    assert answer.status_code == 422
    assert (_reports(console), _uploads(console)) == (before, uploads)
    assert not console.engine.attachments.blobs.exists(hashlib.sha256(good).hexdigest())


def test_the_sixth_report_in_an_hour_is_429_until_the_hour_has_passed(console: Console) -> None:
    with _from(console, "10.9.8.7") as client, _from(console, "10.9.8.8") as neighbour:
        for _ in range(5):
            assert file(client).status_code == 200
        refused = file(client)
        assert refused.status_code == 429
        assert "每小时最多提交 5 件" in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert file(neighbour).status_code == 200  # another address has its own count
        console.clock.advance(timedelta(hours=1, seconds=1))
        assert file(client).status_code == 200
    with console.engine.store.read() as tx:
        kept = set(tx.conn.execute(select(public_report_hits.c.address_hash)).scalars())
    assert "10.9.8.7" not in kept
    assert all(re.fullmatch("[0-9a-f]{64}", k) for k in kept)


def _post_unread(console: Console, address: str, cookie: str | None) -> tuple[int, str]:
    """POST /report straight to the app with a 50 MiB body declared that must not be read:
    the status and the page of the answer."""

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"content-length", str(50 << 20).encode()),
        (b"host", b"testserver"),
    ]
    if cookie:
        headers.append((b"cookie", f"qingliu_report={cookie}".encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/report",
        "raw_path": b"/report",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (address, 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(console.app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


def test_a_form_that_cannot_be_filed_is_refused_before_its_body_is_read(
    console: Console,
) -> None:
    status, page = _post_unread(console, "10.9.9.1", cookie=None)  # no form-token cookie
    assert status == 403
    assert "页面已过期或来源不明" in page
    with _from(console, "10.9.9.2") as client:
        for _ in range(5):
            assert file(client).status_code == 200
        status, page = _post_unread(console, "10.9.9.2", cookie="some-token")
    assert status == 429  # over the hour's limit: the photos are not taken in
    assert "每小时最多提交 5 件" in page
    console.clock.advance(timedelta(hours=1, seconds=1))


def test_a_day_allows_twenty(console: Console) -> None:
    limits = ReportLimits(bits=4, per_hour=100, per_day=2)
    console.app.state.report_limits = limits
    try:
        with _from(console, "10.9.8.9") as client:
            assert [file(client).status_code for _ in range(3)] == [200, 200, 429]
            assert "每天最多提交 2 件" in file(client).text
    finally:
        console.app.state.report_limits = ReportLimits(bits=4)


def test_a_reused_forged_or_unsolved_challenge_is_refused(
    console: Console, anonymous: TestClient
) -> None:
    form = form_of(anonymous.get("/report").text)
    given = {"challenge": form["challenge"], "nonce": challenge.solve(form["challenge"])}
    assert file(anonymous, hidden=given).status_code == 200
    before = _reports(console)
    reused = file(anonymous, hidden=given)
    assert reused.status_code == 403
    assert "此表单已提交过" in reused.text
    forged = given["challenge"].rsplit(".", 1)[0] + "." + "0" * 64
    answer = file(anonymous, hidden={"challenge": forged, "nonce": challenge.solve(forged)})
    assert answer.status_code == 403
    assert "安全校验无效" in answer.text
    accented = given["challenge"].rsplit(".", 1)[0] + "." + "é" * 64  # not ASCII: not a 500
    answer = file(anonymous, hidden={"challenge": accented, "nonce": challenge.solve(accented)})
    assert answer.status_code == 403
    assert "安全校验无效" in answer.text
    unsolved = file(anonymous, solve=False)
    assert unsolved.status_code == 403
    assert "请启用浏览器的 JavaScript" in unsolved.text
    fresh = form_of(anonymous.get("/report").text)["challenge"]
    wrong = next(str(n) for n in range(1000) if not challenge.works(fresh, str(n), 4))
    answer = file(anonymous, hidden={"challenge": fresh, "nonce": wrong})
    assert answer.status_code == 403
    assert "安全校验未通过" in answer.text
    easy = challenge.issue(console.engine, ReportLimits(bits=1))  # below the difficulty
    answer = file(anonymous, hidden={"challenge": easy, "nonce": challenge.solve(easy)})
    assert answer.status_code == 403
    old = form_of(anonymous.get("/report").text)["challenge"]
    console.clock.advance(timedelta(minutes=31))
    answer = file(anonymous, hidden={"challenge": old, "nonce": challenge.solve(old)})
    assert answer.status_code == 403
    assert "页面已过期" in answer.text
    assert _reports(console) == before


def test_a_form_without_its_token_is_refused(console: Console, anonymous: TestClient) -> None:
    before = _reports(console)
    missing = file(anonymous, hidden={"report_token": ""})
    assert missing.status_code == 403
    assert "页面已过期或来源不明" in missing.text
    assert 'value="徒骇河东昌府区段桥下东侧"' in missing.text  # kept for the next try
    not_ascii = file(anonymous, hidden={"report_token": "令牌"})  # not a 500
    assert not_ascii.status_code == 403
    assert "页面已过期或来源不明" in not_ascii.text
    with TestClient(console.app) as other:  # another site's page: no cookie of this form
        given = form_of(anonymous.get("/report").text)
        given["nonce"] = challenge.solve(given["challenge"])
        files = [("photos", ("p.png", png(), "image/png"))]
        assert other.post("/report", data={**given, **FIELDS}, files=files).status_code == 403
    assert _reports(console) == before


def test_the_public_actor_is_a_name_no_token_or_user_can_take(console: Console) -> None:
    assert PUBLIC.role == "public"
    with pytest.raises(TokenError, match="printable"):
        create_token(console.engine, PUBLIC.name, "public")
    with pytest.raises(TokenError):
        Accounts(console.engine).create_user(PUBLIC.name, "a-Password-123", "public")


def test_the_limits_come_from_the_environment() -> None:
    assert ReportLimits.from_environment({}) == ReportLimits()
    given = {"QINGLIU_REPORT_BITS": "12", "QINGLIU_REPORT_PER_HOUR": "3"}
    assert ReportLimits().bits == 15
    assert ReportLimits.from_environment(given) == ReportLimits(per_hour=3, bits=12)
    with pytest.raises(ConfigError, match="QINGLIU_REPORT_BITS"):
        ReportLimits.from_environment({"QINGLIU_REPORT_BITS": "99"})


def test_receipt_codes_read_as_crockford_reads_them() -> None:
    assert receipts.normalise("7kq2 m9xd-4hrt") == "7KQ2M9XD4HRT"
    assert receipts.normalise("O1IL-0000-0000") == "0111" + "0" * 8
    assert receipts.normalise("7KQ2-M9XD-4HR") is None
    assert receipts.normalise("7KQ2-M9XD-4HRU") is None
    assert receipts.display("7KQ2M9XD4HRT") == "7KQ2-M9XD-4HRT"


def test_an_ipv6_address_counts_by_its_network(console: Console) -> None:
    key = partial(address_key, console.engine)
    assert key("2001:db8::1") == key("2001:db8::ffff:1")  # one /64
    assert key("2001:db8::1") != key("2001:db8:0:1::1")
    assert key("::ffff:10.1.2.3") == key("10.1.2.3")
    assert key("10.1.2.3") != key("10.1.2.4")


def test_what_the_schema_refuses_is_shown_at_the_form_field() -> None:
    errors = [
        FieldError("$.reporter.phone", "does not match"),
        FieldError("$.photos[0]", "not an attachment"),
        FieldError("$.longitude", "is not a number"),
        FieldError("$.routing", "readOnly"),
    ]
    assert from_invalid(errors) == {
        "phone": "联系电话填写有误，请检查",
        "photos": "照片填写有误，请检查",
        "longitude": "经度填写有误，请检查",
        "form": "举报内容不完整，请检查后重新提交",
    }


def test_a_form_with_too_many_files_is_a_page_not_an_error(anonymous: TestClient) -> None:
    photos = [(f"{n}.png", png(), "image/png") for n in range(13)]
    answer = file(anonymous, photos=photos)
    assert answer.status_code == 400
    assert "表单无法读取" in answer.text
    seven = file(anonymous, photos=[(f"{n}.png", png(), "image/png") for n in range(7)])
    assert seven.status_code == 422
    assert "最多 6 张照片" in seven.text
