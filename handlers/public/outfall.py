"""The outfall's public page behind its QR code (聊政办字〔2023〕11号 三(四)6 身份证式管理; MEE
Order 35: the responsible party discloses through a sign board or a QR code), for anyone,
without signing in, phone first:

    GET /o/{code}            the page: the facts of ``facts.public_facts`` (a whitelist)
    GET /o/{code}/sign       the sign board (标识牌), a printable sheet; ?size=a4 (default) | a5
    GET /o/{code}/qr.png     the QR code (``idcard.qr`` of ``idcard.record_url``: this page)
    GET /o/{code}/qr.svg

Every answer is ``web.cached_page``: cached under the history head, ``Cache-Control: public``
and an ETag. An outfall not in the ledger is a 404 page in Chinese (not cached).
"""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from handlers.ledger import OutfallNotFound
from handlers.ledger.idcard import qr, record_url
from handlers.public.facts import public_facts, supervision_contact
from handlers.public.web import cached_page, engine_of, public_page, rendered

__all__ = ["SIZES", "base_url", "router"]

router = APIRouter(include_in_schema=False)

SIZES = ("a4", "a5")
_QR_MAX_AGE = 3600  # the code's address never changes


def base_url(request: Request) -> str:
    """The base of the addresses QR codes encode: the deployment's public address
    (``app.state.public_base_url``, settings.yaml ``public_base_url``), else the address the
    page was reached at."""
    found = getattr(request.app.state, "public_base_url", None)
    return str(found or request.base_url).rstrip("/")


def _missing(request: Request, code: str) -> Response:
    return public_page(request, "public/outfall_missing.html", {"code": code}, status=404)


def _or_missing(request: Request, code: str, answer: Callable[[], Response]) -> Response:
    try:
        return answer()
    except OutfallNotFound:
        return _missing(request, code)


@router.get("/o/{code}")
def outfall_page(request: Request, code: str) -> Response:
    def build() -> tuple[bytes, str]:
        facts = public_facts(engine_of(request), code)
        return rendered(request, "public/outfall.html", {"o": facts})

    return _or_missing(request, code, lambda: cached_page(request, ("outfall", code), build))


@router.get("/o/{code}/sign")
def sign_sheet(request: Request, code: str, size: str = "a4") -> Response:
    size = size.lower() if size.lower() in SIZES else "a4"

    def build() -> tuple[bytes, str]:
        engine = engine_of(request)
        facts = public_facts(engine, code)
        url = record_url(base_url(request), facts.code)
        svg = qr(url).svg_inline(scale=10, border=2, omitsize=True, title=facts.code)
        contact = supervision_contact(engine.reference)
        context = {"o": facts, "url": url, "qr": Markup(svg), "size": size, "contact": contact}
        return rendered(request, "public/sign.html", context)

    return _or_missing(request, code, lambda: cached_page(request, ("sign", code, size), build))


def _qr_file(request: Request, code: str, kind: str) -> Response:
    def build() -> tuple[bytes, str]:
        facts = public_facts(engine_of(request), code)  # only codes in the ledger get one
        out = io.BytesIO()
        found = qr(record_url(base_url(request), facts.code))
        if kind == "png":
            found.save(out, kind="png", scale=8, border=4)
            return out.getvalue(), "image/png"
        found.save(out, kind="svg", scale=8, border=4, title=facts.code)
        return out.getvalue(), "image/svg+xml"

    return _or_missing(
        request,
        code,
        lambda: cached_page(request, ("qr", code, kind), build, max_age=_QR_MAX_AGE),
    )


@router.get("/o/{code}/qr.png")
def qr_png(request: Request, code: str) -> Response:
    return _qr_file(request, code, "png")


@router.get("/o/{code}/qr.svg")
def qr_svg(request: Request, code: str) -> Response:
    return _qr_file(request, code, "svg")
