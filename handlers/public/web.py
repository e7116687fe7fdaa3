"""Rendering a public page: the public layout (``public/base.html``), validators and caching.

A public page is the same for everyone (nothing on it depends on who asks), so it is served
with ``Cache-Control: public, max-age=...`` and an ``ETag`` (a conditional request answers 304),
and kept in an in-process cache (``PageCache``) keyed by the address and the history head: the
number of the last history row written (``history_head.gseq``). Every change to a case or an
outfall record moves the head, so a cached page is never stale and the cache needs no expiry;
a page that depends on the day (the column's as-of date) puts the day in its key.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select

from engine.console.web import render
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.tables import history_head

__all__ = ["SITE", "PageCache", "cached_page", "engine_of", "head_of", "public_page"]

# Who reads for the public pages: the site itself, which reads every case and shows only what
# each page names.
SITE = Actor("public_site", "system", None)
DEFAULT_MAX_AGE = 60


def engine_of(request: Request) -> Engine:
    found: Engine = request.app.state.engine
    return found


def head_of(engine: Engine) -> int:
    """The number of the last history row written (0 before the first)."""
    with engine.store.read() as tx:
        found = tx.conn.execute(select(history_head.c.gseq).where(history_head.c.id == 1)).first()
    return int(found[0]) if found else 0


class PageCache:
    """Rendered pages by key, the ``size`` most recently used kept."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], tuple[bytes, str, str]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str, str] | None:
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], page: tuple[bytes, str, str]) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


PAST_PAGES = 64  # pages of other days than today the column keeps (``cached_page(past=True)``)


def cache_of(request: Request, past: bool = False) -> PageCache:
    """The app's page cache; ``past``: the small one of pages as of another day than today,
    so asking for many days never pushes today's pages out."""
    state = request.app.state
    name = "public_past_cache" if past else "public_cache"
    found: PageCache | None = getattr(state, name, None)
    if found is None:
        found = PageCache(PAST_PAGES if past else 512)
        setattr(state, name, found)
    return found


def _answer(request: Request, body: bytes, media: str, etag: str, max_age: int) -> Response:
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def public_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    max_age: int = DEFAULT_MAX_AGE,
    status: int = 200,
) -> Response:
    """``template`` (extending ``public/base.html``) rendered for anyone, with validators."""
    page = render(request, template, context, status=status)
    if status != 200:
        return page
    body = bytes(page.body)
    return _answer(request, body, "text/html; charset=utf-8", _etag(body), max_age)


def cached_page(
    request: Request,
    key: tuple[Any, ...],
    build: Callable[[], tuple[bytes, str]],
    *,
    max_age: int = DEFAULT_MAX_AGE,
    past: bool = False,
) -> Response:
    """The answer ``build()`` gives (body, media type), cached under ``key`` and the history
    head: built again only after a history row was written since. ``past``: a page as of a day
    before today, kept in the small cache of those (``PAST_PAGES``)."""
    cache = cache_of(request, past)
    full = (*key, head_of(engine_of(request)))
    found = cache.get(full)
    if found is None:
        body, media = build()
        found = (body, media, _etag(body))
        cache.put(full, found)
    body, media, etag = found
    return _answer(request, body, media, etag, max_age)


def rendered(request: Request, template: str, context: dict[str, Any]) -> tuple[bytes, str]:
    """``template`` rendered, as ``cached_page``'s ``build`` gives it."""
    return bytes(render(request, template, context).body), "text/html; charset=utf-8"
