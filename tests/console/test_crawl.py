"""The whole console, crawled: every page each demo user (and an anonymous visitor) can reach
by following links from ``/``, and every asset those pages load.

For each user the crawl starts at ``/``, ``/login``, ``/docs`` and ``/redoc`` and follows every
same-site ``href`` of ``<a>`` and ``<area>`` elements, breadth first, up to ``PAGES_PER_USER``
pages; it skips ``/logout`` and downloads (an ``<a download>``, a file name ending in one of
``DOWNLOADS``, an answer with ``Content-Disposition: attachment``). Forms are not submitted:
the crawl only reads. It is generic: it crawls whatever the pages link to, so pages added later
are checked as they land. It asserts:

- no answer is a 5xx, and a redirect never leaves the site;
- every answer carries a Content-Security-Policy that names no other host;
- every HTML page has ``<html lang="zh-CN">`` and a non-empty ``<title>``, no inline script,
  ``<style>`` element, ``style=`` attribute or ``on*=`` handler (the policy would block them:
  a page relying on one is broken), and references no other host: each ``src``, ``href``,
  ``action``, ``formaction``, ``srcset``, ``poster``, ``data``, ``xlink:href`` is a relative or
  same-origin URL or a fragment. ``data:image/...`` is allowed (an image inside the page, such
  as a QR code: it names no host, and the policy's ``img-src`` allows it); ``mailto:``, ``tel:``,
  ``javascript:`` and every other scheme are refused (a government intranet has no use for
  them, and a ``javascript:`` URL is a script the policy would block);
- every asset (stylesheet, script, image) a page loads answers 200; a stylesheet's ``url(...)``
  and ``@import`` name no other host.

And every static file (``*.js``, ``*.css``) the app serves is scanned for ``http://`` and
``https://`` URLs: the app's own files may hold none but XML namespace names, the vendored
bundles (``static/vendor``) only those of ``VENDOR_ALLOWED``, each with the reason it is never
fetched. The browser tests abort and fail any request to another host besides (conftest.py).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from handlers.demo.users import DEMO_USERS
from tests.console.accounts_kit import sign_in
from tests.console.conftest import PASSWORD, Console

ORIGIN = "http://testserver"
PAGES_PER_USER = 150
SEEDS = ("/", "/login", "/docs", "/redoc")
SKIPPED = frozenset({"/logout"})
DOWNLOADS = (".xlsx", ".xls", ".csv", ".zip", ".pdf", ".docx", ".png", ".svg")
_URL_ATTRS = frozenset(
    {"src", "href", "action", "formaction", "srcset", "poster", "data", "xlink:href"}
)
_SCRIPT_DATA = frozenset({"application/json", "application/ld+json", "text/template"})
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
_ABSOLUTE = re.compile(r"""https?://[^\s"'`()<>\\]*""")

# XML namespace names: identifiers compared as strings, never fetched.
NAMESPACES = re.compile(
    r"http://www\.w3\.org/(2000/svg|1999/xhtml|1999/xlink|1998/Math/MathML|XML/)"
)
# URLs in the vendored bundles (static/vendor, see its README.md) and why none is fetched.
VENDOR_ALLOWED: tuple[tuple[str, str], ...] = (
    (NAMESPACES.pattern, "XML namespace names"),
    (r"https?://json-schema\.org/", "JSON Schema $schema/$id identifiers (compared, not fetched)"),
    (r"https://spec\.openapis\.org/oas/", "OpenAPI dialect and schema identifiers"),
    (r"https://raw\.githubusercontent\.com/ajv-validator/", "ajv's data.json meta-schema $id"),
    (r"https://(datatracker\.ietf\.org|www\.rfc-editor\.org)/", "RFC references in comments"),
    (r"https://(github\.com|git\.io|stackoverflow\.com)/", "source and issue links in comments"),
    (r"https?://(reactjs\.org|fb\.me|redux\.js\.org|marked\.js\.org)/", "links in error texts"),
    (
        r"https://(redocly\.com/(redoc|docs|sso)|api\.\$\{[a-z]\}/registry)",
        "ReDoc: links in "
        "texts, a SAML attribute's default name, and a test whether a $ref is Redocly's registry",
    ),
    (r"https://spdx\.org/licenses/", "a licence link Swagger UI shows as text"),
    (r"https://swagger\.io\b", "Swagger UI's 'powered by' link text"),
    (
        r"https://validator\.swagger\.io/validator",
        "the online validator badge: only in the "
        "StandaloneLayout; /docs uses BaseLayout with validatorUrl: null (swagger-init.js)",
    ),
    (r"https?://(example\.com|실례\.com)\b", "examples in validation messages"),
    (r"https://(vladimirgorej\.com|base\$\{String)", "a dummy base for new URL(...) parsing"),
    (
        r"https://(www\.)?(twitter|facebook|instagram|tiktok|soundcloud)\.com/",
        "linkify's mention and hashtag link builders (a link in a rendered text, never loaded)",
    ),
    (r"https?://\Z", "bare schemes in string tests (startsWith('https://'))"),
)


# -- reading a page ---------------------------------------------------------------------------


@dataclass
class Parsed:
    lang: str | None = None
    title: str = ""
    links: list[str] = field(default_factory=list)  # <a>/<area> hrefs to follow
    assets: list[str] = field(default_factory=list)  # what the page loads
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    inline: list[str] = field(default_factory=list)  # what the policy would block


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = Parsed()
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        page = self.found
        if tag == "html":
            page.lang = values.get("lang")
        self._in_title = tag == "title"
        self._urls(tag, values)
        if tag in {"a", "area"} and "href" in values and "download" not in values:
            page.links.append(values["href"])
        if tag == "link" and "href" in values or tag in {"script", "img", "source"}:
            page.assets.extend(v for k, v in values.items() if k in {"href", "src"} and v)
        script_type = values.get("type", "").lower()
        if tag == "script" and not values.get("src") and script_type not in _SCRIPT_DATA:
            page.inline.append("<script> without src")
        if tag == "style":
            page.inline.append("<style> element")

    def _urls(self, tag: str, values: dict[str, str]) -> None:
        for name, value in values.items():
            if name in _URL_ATTRS:
                for url in _srcset(value) if name == "srcset" else [value]:
                    self.found.urls.append((tag, name, url))
            if name.startswith("on") or name == "style":
                self.found.inline.append(f"<{tag} {name}=...>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.found.title += data


def _srcset(value: str) -> list[str]:
    return [part.split()[0] for part in value.split(",") if part.strip()]


def parse(html: str) -> Parsed:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.found


def offsite(value: str, origin: str = ORIGIN) -> bool:
    """Whether ``value``, as a page or stylesheet references it, names another host or a
    scheme other than this site's (see the module's docstring for the rules)."""
    text = value.strip()
    if not text or text.startswith("#"):
        return False
    if text.lower().startswith("data:image/"):
        return False
    if text.startswith(("\\", "/\\")):  # browsers read a backslash as a slash
        return True
    parts = urlsplit(text)
    if not parts.scheme and not parts.netloc:
        return False  # relative: this site
    mine = urlsplit(origin)
    return (parts.scheme, parts.netloc) != (mine.scheme, mine.netloc)


def test_the_rules_of_offsite() -> None:
    same = ["/", "/static/x.css", "page?x=1", "?page=2", "#top", f"{ORIGIN}/inbox", "",
            "data:image/png;base64,iVBOR"]  # fmt: skip
    other = ["//cdn.example/x.js", "https://cdn.example/x.js", "http://testserver:81/",
             "mailto:a@b.example", "javascript:alert(1)", "/\\evil.example", "tel:123",
             "data:text/html,<script>", "https://testserver/"]  # fmt: skip
    assert [v for v in same if offsite(v)] == []
    assert [v for v in other if not offsite(v)] == []


def test_the_reader_finds_links_assets_and_inline_code() -> None:
    found = parse(
        '<html lang="zh-CN"><head><title> 待办 </title><link rel="stylesheet" href="/a.css">'
        '<script src="/a.js"></script><script>alert(1)</script>'
        '<script type="application/json">{}</script></head><body style="x">'
        '<a href="/inbox">x</a><a href="/f.xlsx" download>d</a><img srcset="/1.png 1x, /2.png 2x"'
        ' onclick="x"><form action="https://evil.example/"></form></body></html>'
    )
    assert found.lang == "zh-CN"
    assert found.title.strip() == "待办"
    assert found.links == ["/inbox"]
    assert found.assets == ["/a.css", "/a.js"]
    assert ("img", "srcset", "/2.png") in found.urls
    assert ("form", "action", "https://evil.example/") in found.urls
    assert found.inline == ["<script> without src", "<body style=...>", "<img onclick=...>"]


# -- crawling ---------------------------------------------------------------------------------


@dataclass
class Crawl:
    pages: dict[str, int] = field(default_factory=dict)  # path -> status
    problems: list[str] = field(default_factory=list)


def _local_path(url: str, base: str) -> str | None:
    """The path and query of ``url`` (relative to the page ``base``) on this site, or None."""
    absolute = urljoin(ORIGIN + base, url)
    parts = urlsplit(absolute)
    if (parts.scheme + "://" + parts.netloc) != ORIGIN:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _skipped(path: str) -> bool:
    bare = urlsplit(path).path
    return bare in SKIPPED or bare.lower().endswith(DOWNLOADS) or bare.startswith("/static/")


def _check_answer(answer: Any, path: str, crawl: Crawl) -> None:
    if answer.status_code >= 500:
        crawl.problems.append(f"{path}: {answer.status_code}")
    policy = answer.headers.get("content-security-policy", "")
    if not policy:
        crawl.problems.append(f"{path}: no Content-Security-Policy")
    elif re.search(r"https?:|\*", policy):
        crawl.problems.append(f"{path}: the policy names other hosts: {policy}")


def _check_page(parsed: Parsed, path: str, crawl: Crawl) -> None:
    if parsed.lang != "zh-CN":
        crawl.problems.append(f'{path}: <html lang="{parsed.lang}">, not zh-CN')
    if not parsed.title.strip():
        crawl.problems.append(f"{path}: no <title>")
    crawl.problems.extend(f"{path}: {what}" for what in parsed.inline)
    for tag, name, value in parsed.urls:
        if offsite(value):
            crawl.problems.append(f"{path}: <{tag} {name}={value!r}> references another host")


def crawl(
    client: TestClient,
    assets: dict[str, Any],
    limit: int = PAGES_PER_USER,
    seeds: tuple[str, ...] = SEEDS,
) -> Crawl:
    """Follow the links from ``seeds`` as ``client``; ``assets`` caches the assets fetched."""
    found = Crawl()
    queue: deque[str] = deque(seeds)
    queued = set(seeds)
    while queue and len(found.pages) < limit:
        path = queue.popleft()
        answer = client.get(path)
        found.pages[path] = answer.status_code
        _check_answer(answer, path, found)
        following: list[str] = []
        if answer.is_redirect:
            following.append(answer.headers["location"])
            if _local_path(answer.headers["location"], path) is None:
                found.problems.append(f"{path}: redirects off site to {answer.headers['location']}")
        kind = answer.headers.get("content-type", "")
        attachment = "attachment" in answer.headers.get("content-disposition", "")
        if kind.startswith("text/html") and not attachment:
            parsed = parse(answer.text)
            _check_page(parsed, path, found)
            following.extend(parsed.links)
            for asset in parsed.assets:
                local = _local_path(asset, path)
                if local is not None:
                    _check_asset(client, local, assets, found)
        for link in following:
            local = _local_path(link, path)
            if local is not None and local not in queued and not _skipped(local):
                queued.add(local)
                queue.append(local)
    return found


def _check_asset(client: TestClient, path: str, cache: dict[str, Any], crawl: Crawl) -> None:
    if path not in cache:
        answer = client.get(path)
        problems = [] if answer.status_code == 200 else [f"{path}: {answer.status_code}"]
        if answer.status_code == 200 and "text/css" in answer.headers.get("content-type", ""):
            for match in _CSS_URL.finditer(answer.text):
                url = match.group(1) or match.group(2)
                if offsite(url):
                    problems.append(f"{path}: url({url}) references another host")
        cache[path] = problems
    crawl.problems.extend(cache[path])


@pytest.fixture(scope="module")
def assets() -> dict[str, Any]:
    return {}


USERS = [None, *(u.username for u in DEMO_USERS)]


@pytest.mark.parametrize("username", USERS, ids=[u or "anonymous" for u in USERS])
def test_every_page_reachable_is_whole_chinese_and_offline(
    console: Console, assets: dict[str, Any], username: str | None
) -> None:
    with TestClient(console.app, base_url=ORIGIN, follow_redirects=False) as client:
        if username is not None:
            assert sign_in(client, username, PASSWORD).status_code == 303
        found = crawl(client, assets)
    assert found.problems == []
    assert found.pages["/docs"] == 200
    if username is None:
        assert found.pages["/"] == 303  # to the sign-in page
        assert found.pages["/login"] == 200
    else:
        assert found.pages["/"] == 200
        assert len(found.pages) > len(SEEDS)  # the menu's pages, at least
    if username == "admin":
        assert found.pages["/admin/users"] == 200
        assert found.pages["/admin/users/tokens"] == 200
        assert found.pages["/admin/users/new"] == 200


def test_the_crawl_finds_what_is_wrong() -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, PlainTextResponse

    bad = FastAPI()
    page = (
        '<!doctype html><html lang="en"><head><link rel="stylesheet" href="/s.css"></head>'
        '<body><a href="/broken">x</a><a href="/logout">out</a><a href="/r">r</a>'
        '<img src="https://cdn.example/a.png"></body></html>'
    )
    bad.get("/")(lambda: HTMLResponse(page, headers={"Content-Security-Policy": "default-src *"}))
    bad.get("/s.css")(lambda: PlainTextResponse("a{background:url(//cdn.example/b.png)}",
                                                media_type="text/css"))  # fmt: skip
    bad.get("/r")(lambda: HTMLResponse("", 303, {"location": "https://evil.example/"}))

    @bad.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(bad, base_url=ORIGIN, follow_redirects=False,
                    raise_server_exceptions=False) as client:  # fmt: skip
        found = crawl(client, {}, seeds=("/",))
    assert set(found.pages) == {"/", "/broken", "/r"}  # not /logout
    wanted = [
        "/: the policy names other hosts",
        '/: <html lang="en">',
        "/: no <title>",
        "/: <img src='https://cdn.example/a.png'> references another host",
        "/s.css: url(//cdn.example/b.png) references another host",
        "/broken: 500",
        "/r: redirects off site to https://evil.example/",
    ]
    assert [w for w in wanted if not any(p.startswith(w) for p in found.problems)] == []


# -- static files -----------------------------------------------------------------------------


def _static_files(console: Console) -> Iterator[Path]:
    for route in console.app.routes:
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            for folder in route.app.all_directories:
                for path in sorted(Path(folder).rglob("*")):
                    if path.suffix in {".js", ".css", ".mjs", ".html", ".svg"}:
                        yield path


def test_no_static_file_fetches_from_another_host(console: Console) -> None:
    vendor = [re.compile(pattern) for pattern, _ in VENDOR_ALLOWED]
    problems = []
    scanned = 0
    for path in _static_files(console):
        scanned += 1
        allowed = vendor if "vendor" in path.parts else [NAMESPACES]
        for url in _ABSOLUTE.findall(path.read_text(encoding="utf-8", errors="replace")):
            if not any(pattern.match(url) for pattern in allowed):
                problems.append(f"{path.name}: {url}")
    assert scanned >= 5  # htmx, Swagger UI, ReDoc, the console's own
    assert problems == []
