"""The transition route's express lane (``engine.api.express``) answers exactly as the FastAPI
route does, and takes only the requests it should.

Two twin engines on two new databases, seeded alike (the same flow, the same tokens with the
same secrets, the same fake clock): one app with the lane, one without. Every request is sent
to both, in the same order, and the answers must be byte for byte the same: status, headers
and body (case ids, timestamps, ETags and history hashes included). A spy behind the lane
records which requests reached FastAPI, so each case also says who answered it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.api.app import create_app
from engine.api.express import MAX_BODY
from engine.api.tokens import hash_token, verified
from engine.clock import FakeClock
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from tests.engine.api.conftest import FIXTURE
from tests.engine.api.helpers import case_body

# name, role, jurisdiction; the secret is derived from the name
TOKENS = [
    ("city", "eeb_city", "liaocheng"),
    ("applicant", "applicant", "chiping"),
    ("other_county", "county_eeb", "linqing"),
]


JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


def _secret(name: str) -> str:
    return f"qlt_express-test-{name}"


def _auth(name: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {_secret(name)}"}


class _Spy:
    """Records the path of every HTTP request that gets past the lane to FastAPI."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])
        await self.app(scope, receive, send)


def _seeded(settings: Settings, clock: FakeClock) -> Engine:
    engine = build_engine(settings, clock=clock)
    engine.load([FIXTURE])
    with engine.store.write() as tx:
        for name, role, jurisdiction in TOKENS:
            tx.insert_token(name, role, jurisdiction, hash_token(_secret(name)), clock.now())
    return engine


@pytest.fixture
def twins(settings: Settings, second_database_url: str, clock: FakeClock) -> Iterator[Twins]:
    """(client of the app with the lane, client of the app without it, paths the lane passed on)."""
    verified.clear()
    lane_engine = _seeded(settings, clock)
    route_engine = _seeded(dataclasses.replace(settings, database_url=second_database_url), clock)
    seen: list[str] = []
    lane_app: FastAPI = create_app(lane_engine)
    lane_app.user_middleware.append(Middleware(_Spy, seen=seen))  # innermost: behind the lane
    route_app = create_app(route_engine, express=False)
    try:
        with TestClient(lane_app) as lane, TestClient(route_app) as route:
            yield lane, route, seen
    finally:
        verified.clear()
        lane_engine.store.dispose()
        route_engine.store.dispose()


Twins = tuple[TestClient, TestClient, list[str]]


def _same(twins: Twins, method: str, url: str, **kwargs: Any) -> tuple[int, bool]:
    """Send the request to both apps; assert the answers are identical. Returns the status and
    whether the lane answered it itself."""
    lane, route, seen = twins
    before = len(seen)
    ours = lane.request(method, url, **kwargs)
    theirs = route.request(method, url, **kwargs)
    assert ours.status_code == theirs.status_code, (ours.text, theirs.text)
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert ours.content == theirs.content
    return ours.status_code, len(seen) == before


def _open(twins: Twins) -> str:
    """The transitions URL of a new case, opened alike in both databases (so its id is 1)."""
    opened = _same(twins, "POST", "/api/v1/cases", json=case_body(), headers=_auth("city"))
    assert opened == (201, False)
    return "/api/v1/cases/1/transitions"


def test_plain_requests_are_answered_by_the_lane_as_the_route_answers_them(twins: Twins) -> None:
    url = _open(twins)
    comment = {"trigger": "comment", "payload": {"note": "现场核查"}}
    city = _auth("city")
    cases = [
        # (request, status) - all of them plain: the lane answers
        ({"json": {"trigger": "fast_track"}, "headers": city}, 409),  # no note yet
        ({"json": comment, "headers": city}, 200),
        ({"json": comment, "headers": _auth("city", scheme="bearer")}, 200),
        (
            {
                "content": b'{"trigger": "comment", "payload": {"note": "x"}}',
                "headers": {**city, "Content-Type": "application/json; charset=utf-8"},
            },
            200,
        ),
        ({"json": comment, "headers": {**city, "Idempotency-Key": "k-1"}}, 200),
        ({"json": comment, "headers": {**city, "Idempotency-Key": "k-1"}}, 200),  # replayed
        ({"json": {"trigger": "accept"}, "headers": {**city, "Idempotency-Key": "k-1"}}, 422),
        ({"json": comment, "headers": {**city, "Idempotency-Key": "has space"}}, 400),
        ({"json": comment, "headers": {**city, "If-Match": '"1"'}}, 412),
        ({"json": comment, "headers": {**city, "If-Match": "latest"}}, 400),
        ({"json": {"trigger": "comment", "payload": {}}, "headers": city}, 422),
        ({"json": {"trigger": "approve"}, "headers": city}, 409),
        ({"json": {"trigger": "no_such_trigger"}, "headers": city}, 409),
        ({"json": {"trigger": "accept"}, "headers": _auth("applicant")}, 403),
        ({"json": {"trigger": "accept"}, "headers": _auth("other_county")}, 404),
        ({"json": {"trigger": "accept"}, "headers": {**city, "If-Match": "*"}}, 200),
        ({"json": {"trigger": "approve"}, "headers": city}, 200),
        ({"json": comment, "headers": city}, 409),  # the case is closed
    ]
    for request, status in cases:
        assert _same(twins, "POST", url, **request) == (status, True), request
    assert _same(twins, "POST", "/api/v1/cases/999/transitions", json=comment, headers=city) == (
        404,
        True,
    )
    assert _same(twins, "GET", "/api/v1/cases/1/history", headers=city) == (200, False)


def test_other_requests_go_to_the_route_and_are_answered_as_before(twins: Twins) -> None:
    url = _open(twins)
    comment = {"trigger": "comment", "payload": {"note": "n"}}
    big = {"trigger": "comment", "payload": {"note": "长" * MAX_BODY}}  # over MAX_BODY bytes
    city = _auth("city")
    cases = [
        # (method, url, request, status) - none of them plain: FastAPI answers
        ("POST", url, {"json": comment}, 401),
        ("POST", url, {"json": comment, "headers": {"Authorization": "Bearer qlt_nobody"}}, 401),
        ("POST", url, {"json": comment, "headers": {"Authorization": "Basic eDp5"}}, 401),
        ("POST", url, {"content": b"{not json", "headers": {**city, **JSON}}, 400),
        ("POST", url, {"content": b"\xff\xfe", "headers": {**city, **JSON}}, 400),
        ("POST", url, {"json": [comment], "headers": city}, 422),
        ("POST", url, {"json": {**comment, "extra": 1}, "headers": city}, 422),
        ("POST", url, {"json": {"trigger": ""}, "headers": city}, 422),
        ("POST", url, {"json": {"trigger": "a\x00b"}, "headers": city}, 422),
        ("POST", url, {"content": b'{"trigger": "accept"}', "headers": city}, 422),
        ("POST", url, {"content": b'{"trigger": "accept"}', "headers": {**city, **TEXT}}, 422),
        ("POST", url, {"json": big, "headers": city}, 422),
        ("POST", url + "?dry_run=1", {"json": comment, "headers": city}, 422),
        ("POST", "/api/v1/cases/0/transitions", {"json": comment, "headers": city}, 422),
        ("POST", f"/api/v1/cases/{2**63}/transitions", {"json": comment, "headers": city}, 422),
        ("GET", url, {"headers": city}, 405),
    ]
    for method, target, request, status in cases:
        assert _same(twins, method, target, **request) == (status, False), (target, request)
    # A body the lane has read and passed on is replayed to the route whole: after the refusals
    # above, a plain transition still works and both databases hold the same history.
    assert _same(twins, "POST", url, json=comment, headers=city) == (200, True)
    assert _same(twins, "GET", "/api/v1/cases/1/history", headers=city) == (200, False)
