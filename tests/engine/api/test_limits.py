"""Limits every request meets before any route sees it (``engine.api.limits``): the body size
(413 before the body is read whole, with or without ``Content-Length``) and the nesting depth
of a JSON body (400, never a RecursionError or a 500)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api import spool
from engine.api.app import create_app
from engine.api.limits import MAX_JSON_DEPTH, BodyLimits, too_deep
from engine.runtime import Engine
from tests.engine.api.helpers import case_body, problem

Tokens = dict[str, dict[str, str]]
MiB = 1 << 20


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b" " * part


def test_a_body_over_the_limit_is_413_on_a_fastapi_route(
    client: TestClient, tokens: Tokens
) -> None:
    body = case_body(note="长" * MiB)  # a 3 MiB text field: no route may store it
    answer = client.post("/api/v1/cases", json=body, headers=tokens["city"])
    found = problem(answer, 413, "payload-too-large")
    assert str(MiB) in found["detail"]
    assert client.get("/api/v1/cases", headers=tokens["city"]).json()["items"] == []


def test_a_body_over_the_limit_is_413_on_the_transition_route(
    client: TestClient, tokens: Tokens
) -> None:
    answer = client.post(
        "/api/v1/cases/1/transitions",
        json={"trigger": "comment", "payload": {"note": "x" * (MiB + 1)}},
        headers=tokens["city"],
    )
    problem(answer, 413, "payload-too-large")


def test_a_chunked_body_without_content_length_is_counted(
    client: TestClient, tokens: Tokens
) -> None:
    headers = {**tokens["admin"], "Content-Type": "application/yaml"}
    answer = client.post("/api/v1/workflows/validate", content=_chunks(2 * MiB), headers=headers)
    problem(answer, 413, "payload-too-large")


def test_a_body_at_the_limit_passes(client: TestClient, tokens: Tokens) -> None:
    headers = {**tokens["admin"], "Content-Type": "application/yaml"}
    answer = client.post("/api/v1/workflows/validate", content=b"#" * MiB, headers=headers)
    assert answer.status_code == 200, answer.text


def test_the_limit_is_a_setting(api_engine: Engine, tokens: Tokens) -> None:
    with TestClient(create_app(api_engine, max_body_bytes=1000)) as small:
        body = case_body(note="x" * 1000)
        city = tokens["city"]
        problem(small.post("/api/v1/cases", json=body, headers=city), 413, "payload-too-large")
        assert small.post("/api/v1/cases", json=case_body(), headers=city).status_code == 201


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body() -> None:
    async def never_called(_scope: Any, _receive: Any, _send: Any) -> None:
        raise AssertionError("the app ran")

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/cases",
        "headers": [(b"content-length", str(100 * MiB).encode())],
    }
    asyncio.run(BodyLimits(never_called, max_bytes=MiB)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_the_settings_file_sets_the_limit(tmp_path: Any) -> None:
    from engine.settings import DEFAULT_MAX_BODY_BYTES, load_settings

    assert load_settings(tmp_path).max_body_bytes == DEFAULT_MAX_BODY_BYTES == MiB
    (tmp_path / "settings.yaml").write_text("max_body_bytes: 4096\n", encoding="utf-8")
    assert load_settings(tmp_path).max_body_bytes == 4096


# -- JSON nesting ----------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 5000, 100_000])
def test_a_deeply_nested_body_is_400_on_a_fastapi_route(
    client: TestClient, tokens: Tokens, depth: int
) -> None:
    text = '{"workflow": "api_permit", "data": {"county": "chiping", "outfall_code": "X", '
    text += f'"missing_items": {_nested(depth)}}}}}'
    headers = {**tokens["city"], "Content-Type": "application/json"}
    answer = client.post("/api/v1/cases", content=text, headers=headers)
    found = problem(answer, 400, "malformed-request")
    assert f"more than {MAX_JSON_DEPTH} levels" in found["detail"]
    assert found["errors"][0]["in"] == "body"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 100_000])
def test_a_deeply_nested_body_is_400_on_the_transition_route(
    client: TestClient, tokens: Tokens, new_case: Any, depth: int
) -> None:
    case = new_case()
    text = '{"trigger": "comment", "payload": {"note": ' + _nested(depth) + "}}"
    headers = {**tokens["city"], "Content-Type": "application/json"}
    answer = client.post(f"/api/v1/cases/{case['id']}/transitions", content=text, headers=headers)
    problem(answer, 400, "malformed-request")


def test_nesting_at_the_limit_reaches_the_route(client: TestClient, tokens: Tokens) -> None:
    # 3 levels are the body's own ({ body { data [ items ), the rest are the array's
    text = '{"workflow": "api_permit", "data": {"county": "chiping", "outfall_code": "X", '
    text += f'"missing_items": {_nested(MAX_JSON_DEPTH - 2)}}}}}'
    headers = {**tokens["city"], "Content-Type": "application/json"}
    answer = client.post("/api/v1/cases", content=text, headers=headers)
    problem(answer, 422, "invalid-input")  # the schema's answer: items must be strings


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ('{"a": "' + "[" * 200 + '"}', False),  # brackets inside a string do not nest
        ('{"a": "\\"' + "[" * 200 + '"}', False),  # nor after an escaped quote
        ('["\\\\"' + ", [" * 70 + "]" * 70 + "]", True),  # an escaped backslash ends no string
        ("[{" * 33 + "}]" * 33, True),
        ("[{" * 32 + "}]" * 32, False),
        ("[]" * 10_000, False),  # wide is not deep
        ("]" * 100 + "[" * 100, False),  # not JSON: left to the parser
    ],
)
def test_the_depth_scan(text: str, deep: bool) -> None:
    assert too_deep(text.encode(), MAX_JSON_DEPTH) is deep


def test_a_yaml_body_is_not_scanned_as_json(client: TestClient, tokens: Tokens) -> None:
    headers = {**tokens["admin"], "Content-Type": "application/yaml"}
    answer = client.post("/api/v1/workflows/validate", content=b"#" + b"[" * 200, headers=headers)
    assert answer.status_code == 200, answer.text


# -- large bodies: spooled to a file, a few at a time ------------------------------------------

UPLOAD = re.compile(r"/upload")


def _post(body: bytes, size: int = 64 * 1024, accept: bytes = b"*/*") -> tuple[Any, Any]:
    """The scope and ``receive`` of a multipart POST to /upload sending ``body`` in chunks."""
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": [(b"content-type", b"multipart/form-data; boundary=x"), (b"accept", accept)],
    }
    return scope, receive


def _run(limits: BodyLimits, scope: Any, receive: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(limits(scope, receive, send))
    return sent


class _Echo:
    """An app that reads the whole body as a route does and answers 200."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def __call__(self, _scope: Any, receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            self.messages.append(message["body"])
            more = message["more_body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_large_body_goes_through_a_temporary_file_and_arrives_intact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Any] = []

    class Recorded(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(spool.tempfile, "SpooledTemporaryFile", Recorded)
    body = os.urandom(3 * MiB + 17)
    app = _Echo()
    limits = BodyLimits(app, max_bytes=MiB, ceilings=[(UPLOAD, 10 * MiB)])
    sent = _run(limits, *_post(body))
    assert sent[0]["status"] == 200
    assert b"".join(app.messages) == body
    assert len(app.messages) == -(-len(body) // spool.CHUNK)  # chunks from the file, no join
    assert len(made) == 1
    assert made[0].closed  # dropped once the route is done
    small = _Echo()
    assert _run(BodyLimits(small, max_bytes=MiB), *_post(b"x" * spool.SPOOL_AT))[0]["status"] == 200
    assert small.messages == [b"x" * spool.SPOOL_AT]  # a small body: one message from memory
    assert len(made) == 1
    for _ in range(spool.MAX_LARGE):  # every place was given back
        assert limits.gate.enter()


def test_a_large_body_over_the_ceiling_is_still_413_and_its_file_dropped() -> None:
    app = _Echo()
    limits = BodyLimits(app, max_bytes=MiB, ceilings=[(UPLOAD, 2 * MiB)])
    sent = _run(limits, *_post(b"y" * (3 * MiB)))
    assert sent[0]["status"] == 413
    assert app.messages == []
    for _ in range(spool.MAX_LARGE):
        assert limits.gate.enter()


def test_large_bodies_beyond_the_places_are_503_with_retry_after() -> None:
    app = _Echo()
    limits = BodyLimits(app, max_bytes=MiB, ceilings=[(UPLOAD, 10 * MiB)])
    for _ in range(spool.MAX_LARGE):  # four uploads arriving
        assert limits.gate.enter()
    body = b"z" * (2 * MiB)
    sent = _run(limits, *_post(body))
    assert sent[0]["status"] == 503
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"retry-after"] == b"10"
    assert json.loads(sent[1]["body"])["type"].endswith("uploads-busy")
    page = _run(limits, *_post(body, accept=b"text/html,application/xhtml+xml"))
    assert page[0]["status"] == 503
    assert dict(page[0]["headers"])[b"retry-after"] == b"10"
    assert "请稍后重新提交" in page[1]["body"].decode()
    assert b"style=" not in page[1]["body"]
    assert app.messages == []
    assert _run(limits, *_post(b"small"))[0]["status"] == 200  # small bodies never wait
    limits.gate.leave()
    assert _run(limits, *_post(body))[0]["status"] == 200  # a place came free
