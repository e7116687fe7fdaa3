"""Public pages are cached by the history head: the same answer until something is written."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.testclient import TestClient

from engine.handlers import Actor
from handlers.public.web import cached_page
from tests.attachkit import upload
from tests.public.conftest import Console


def test_the_public_style_is_served(anonymous: TestClient) -> None:
    answer = anonymous.get("/static/public/public.css")
    assert answer.status_code == 200
    assert "body.public" in answer.text


def test_a_cached_page_is_rebuilt_only_after_a_history_row(console: Console) -> None:
    built: list[int] = []
    router = APIRouter()

    @router.get("/test-cached")
    def page(request: Request) -> Response:
        def build() -> tuple[bytes, str]:
            built.append(1)
            return f"build {len(built)}".encode(), "text/plain"

        return cached_page(request, ("test-cached",), build)

    console.app.include_router(router)
    with TestClient(console.app) as client:
        first = client.get("/test-cached")
        again = client.get("/test-cached")
        assert (first.text, again.text) == ("build 1", "build 1")
        assert first.headers["cache-control"] == "public, max-age=60"
        etag = first.headers["etag"]
        assert client.get("/test-cached", headers={"If-None-Match": etag}).status_code == 304

        site = Actor("public_site", "system")
        photo = upload(console.engine, site, "public_report", "photos")
        case = console.engine.create_case(
            "public_report",
            {
                "channel": "snapshot",
                "county": "dongchangfu",
                "longitude": 115.98,
                "latitude": 36.45,
                "photos": [photo],
                "description": "排口冒黑水",
            },
            site,
        )
        assert case.id
        assert client.get("/test-cached").text == "build 2"
