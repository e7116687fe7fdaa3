"""Files in the console: an attachment field is a file input, the form posts multipart, the
route uploads each file through engine.attachments and fires with their values; the case page
shows thumbnails through a route with the case's read access."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image

from engine.api.routes_attachments import FORM_BODY_BYTES, UPLOAD_BODY_BYTES
from engine.blobs import FileBlobStore, MemoryBlobStore
from engine.definition.attachments import form_bytes
from engine.handlers import Actor
from tests.attachkit import jpeg
from tests.conftest import ROOT
from tests.console.conftest import Console
from tests.console.test_case_page import a_case, field_block, hidden, signed_client

CLERK = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")
MiB = 1 << 20
STANDARD = {f"standardisation.{k}": "on" for k in ("signboard", "sampling_point", "qr_code")}


@pytest.fixture(scope="module")
def clerk(console: Console) -> Iterator[TestClient]:
    with signed_client(console, "dongchangfu.eeb") as client:
        yield client


@pytest.fixture(scope="module")
def regularising(console: Console) -> int:
    """The demo's rectification case in planning, now in works (规范整治-施工中)."""
    case = a_case(console, "rectification", "planning")
    console.engine.fire(case.id, "choose_mode", CLERK, {"mode": "regularise"})
    return case.id


def test_photos_are_a_file_input_and_the_form_posts_multipart(
    clerk: TestClient, regularising: int
) -> None:
    case_id = regularising
    html = clerk.get(f"/cases/{case_id}").text
    action = f"/cases/{case_id}/fire/complete"
    start = html.index(f'action="{action}"')
    assert 'enctype="multipart/form-data"' in html[start : html.index(">", start)]
    block = field_block(html, "evidence.photos", action)
    assert 'type="file"' in block
    assert 'accept="image/jpeg,image/png,image/webp"' in block
    assert " multiple" in block


def _kept(console: Console) -> tuple[int, list[str]]:
    """The upload rows and every blob file (or in-memory blob and copy)."""
    with console.engine.store.read() as tx:
        rows = tx.upload_count()
    blobs = console.engine.attachments.blobs
    if isinstance(blobs, FileBlobStore):
        return rows, sorted(str(p) for p in blobs.root.rglob("*") if p.is_file())
    assert isinstance(blobs, MemoryBlobStore)
    return rows, sorted(blobs.blobs) + sorted(f"{d}.{v}" for d, v in blobs.derived)


def test_a_refused_form_leaves_no_upload_row_or_blob_behind(
    clerk: TestClient, console: Console, regularising: int
) -> None:
    case_id = regularising
    action = f"/cases/{case_id}/fire/complete"
    before = _kept(console)
    photo = [("evidence.photos", ("现场.jpg", jpeg((64, 48), (1, 2, 3)), "image/jpeg"))]
    form = hidden(clerk.get(f"/cases/{case_id}").text, action)
    stale = {**form, "_version": f'"{console.engine.get_case(case_id).version - 1}"'}
    answer = clerk.post(action, data={**stale, **STANDARD}, files=photo, follow_redirects=False)
    assert answer.status_code == 412, answer.text  # the case moved on: nothing fired
    assert _kept(console) == before
    form = hidden(clerk.get(f"/cases/{case_id}").text, action)
    pdf = ("evidence.photos", ("扫描.jpg", b"%PDF-1.4\n", "image/jpeg"))
    answer = clerk.post(action, data={**form, **STANDARD}, files=[*photo, pdf])
    assert answer.status_code == 422, answer.text  # the second file refused, the first stored
    assert _kept(console) == before
    assert console.engine.get_case(case_id, CLERK).state == "regularising"


def test_a_wrong_file_is_refused_at_its_input_then_photos_fire_and_show_as_thumbnails(
    clerk: TestClient, console: Console, regularising: int
) -> None:
    case_id = regularising
    before = len(console.engine.history(case_id, CLERK))
    action = f"/cases/{case_id}/fire/complete"
    form = hidden(clerk.get(f"/cases/{case_id}").text, action)
    files = [("evidence.photos", ("photo.jpg", b"%PDF-1.4\n", "image/jpeg"))]
    answer = clerk.post(action, data={**form, **STANDARD}, files=files)
    assert answer.status_code == 422
    block = field_block(answer.text, "evidence.photos", action)
    assert "field-error" in block
    assert re.search(r"photo\.jpg：文件类型 application/pdf 不被接受", block)
    assert len(console.engine.history(case_id, CLERK)) == before
    assert console.engine.get_case(case_id, CLERK).state == "regularising"
    action = f"/cases/{case_id}/fire/complete"
    form = hidden(clerk.get(f"/cases/{case_id}").text, action)
    photos = [
        ("evidence.photos", ("封堵前.jpg", jpeg((800, 600), (10, 10, 200)), "image/jpeg")),
        ("evidence.photos", ("封堵后.jpg", jpeg((800, 600), (10, 200, 10)), "image/jpeg")),
    ]
    answer = clerk.post(action, data={**form, **STANDARD}, files=photos, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    view = console.engine.get_case(case_id, CLERK)
    assert view.state == "county_acceptance"
    stored = view.data["evidence"]["photos"]
    assert [p["name"] for p in stored] == ["封堵前.jpg", "封堵后.jpg"]
    page = clerk.get(f"/cases/{case_id}").text
    for photo in stored:
        url = f"/cases/{case_id}/files/{photo['sha256']}"
        assert f'<a class="attachment" href="{url}"' in page
        assert f'<img src="{url}?variant=thumb"' in page
    url = f"/cases/{case_id}/files/{stored[0]['sha256']}"
    thumb = clerk.get(url, params={"variant": "thumb"})
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    with signed_client(console, "chiping.eeb") as other:  # another county: no such case
        assert other.get(url).status_code == 404


def _declared(console: Console, path: str, size: int) -> list[dict[str, Any]]:
    """What the app answers a multipart POST to ``path`` declaring ``size`` bytes, before any
    byte of it is sent (a body that is read finds the client gone: no answer)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [
        (b"content-length", str(size).encode()),
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"accept", b"text/html"),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
    }
    asyncio.run(console.app(scope, receive, send))
    return sent


def test_a_form_takes_its_largest_files_and_more_is_a_chinese_page(console: Console) -> None:
    largest = max(
        form_bytes(t.get("payload_schema"))
        for path in (ROOT / "workflows").glob("*.yaml")
        for t in yaml.safe_load(path.read_text(encoding="utf-8"))["transitions"]
    )
    assert 20 * 10 * MiB <= largest <= FORM_BODY_BYTES - MiB  # rectification: 20 × 10 MiB
    assert _declared(console, "/cases/1/fire/complete", 20 * 10 * MiB + MiB) == []  # read on
    [start, body] = _declared(console, "/cases/1/fire/complete", FORM_BODY_BYTES + 1)
    assert start["status"] == 413
    assert (b"content-type", b"text/html; charset=utf-8") in start["headers"]
    assert "提交的内容过大" in body["body"].decode()
    api = _declared(console, "/api/v1/cases/1/attachments", UPLOAD_BODY_BYTES + 1)
    assert api[0]["status"] == 413  # one file per upload: the API's ceiling, as problem+json
    assert (b"content-type", b"application/problem+json") in api[0]["headers"]
