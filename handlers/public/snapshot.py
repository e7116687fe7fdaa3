"""随手拍: ``/report`` (the public form: GET shows it, POST files it), ``/r`` (a form to type a
receipt code) and ``/r/{receipt}`` (the report's status). No sign-in.

The form carries its own form token (a cookie and a hidden field that must match, as
``/login`` does: there is no session), so another site cannot post it, and a challenge whose
proof of work the page's script finds (``challenge``). The pages hold personal input and a
receipt code: none is cached (the security headers' ``Cache-Control: no-store``).
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from engine.api.auth import client_address
from engine.console.web import ConsoleRoute, render
from handlers.public import challenge, receipts
from handlers.public.filing import FormRefused, file_report
from handlers.public.limits import (
    ChallengeRefused,
    ReceiptNotFound,
    TooManyReports,
    check_rate,
    limits_of,
)
from handlers.public.photos import MAX_BYTES, MAX_PHOTOS, Photo
from handlers.public.report_form import TEXT_FIELDS, choices, outfall_prefill
from handlers.public.web import engine_of

__all__ = ["BODY_CEILING", "before_reading", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

TOKEN_COOKIE = "qingliu_report"
# POST /report carries its photos: six at their largest, and room for the other fields (a
# larger body is refused by engine.api.limits before the page sees it).
BODY_CEILING = (re.compile(r"/report"), MAX_PHOTOS * MAX_BYTES + 256 * 1024)
_STALE = "页面已过期或来源不明，请重新提交（照片需重新选择）"


def _form_page(
    request: Request,
    values: dict[str, str],
    problems: dict[str, str] | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    engine = engine_of(request)
    settings = limits_of(request.app.state)
    token = secrets.token_urlsafe(24)
    context: dict[str, Any] = {
        "values": values,
        "problems": problems or {},
        "error": error or ("请按提示修改后重新提交（照片需重新选择）" if problems else None),
        "report_token": token,
        "challenge": challenge.issue(engine, settings),
        "max_photos": MAX_PHOTOS,
        **choices(engine.reference),
    }
    page = render(request, "public/report.html", context, status=status)
    page.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/report",
    )
    return page


@router.get("/report")
def report_form(
    request: Request, outfall: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    values: dict[str, str] = {}
    error = None
    if outfall:
        found = outfall_prefill(engine_of(request), outfall)
        if found is None:
            error = f"台账中没有编码为 {outfall} 的排污口，请填写位置"
        else:
            values = found
    return _form_page(request, values, error=error)


async def _photos(form: Any) -> list[Photo]:
    found = []
    for item in form.getlist("photos"):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            found.append(Photo(item.filename or "", await item.read(MAX_BYTES + 1)))
    return found


async def before_reading(scope: Any) -> Response | None:
    """``POST /report`` refused before its body (the photos) is read (``engine.api.limits``):
    without the form's token cookie (403, as a wrong token is) or from an address over its
    rate limit (429); None to read on."""
    request = Request(scope)
    if not request.cookies.get(TOKEN_COOKIE):
        return _form_page(request, {}, status=403, error=_STALE)
    engine = engine_of(request)
    try:
        await run_in_threadpool(
            check_rate, engine, limits_of(request.app.state), client_address(request)
        )
    except TooManyReports as refused:
        return _too_many(request, refused)
    return None


def _too_many(request: Request, refused: TooManyReports) -> Response:
    message = str(refused).split(" (")[0]
    page = render(request, "public/report_refused.html", {"message": message}, status=429)
    page.headers.update(refused.headers())
    return page


@router.post("/report")
async def report_submit(request: Request) -> Response:
    try:
        form = await request.form(max_files=MAX_PHOTOS * 2, max_fields=len(TEXT_FIELDS) + 10)
    except (HTTPException, MultiPartException):  # malformed, or too many files or fields
        return _form_page(request, {}, status=400, error="表单无法读取，请重新填写后提交")
    try:
        return await _submitted(request, form)
    finally:
        await form.close()


async def _submitted(request: Request, form: Any) -> Response:
    values = {k: str(v).strip() for k, v in form.multi_items() if isinstance(v, str)}
    values["outfall_name"] = values.get("outfall_name", "")
    expected = request.cookies.get(TOKEN_COOKIE, "")
    given = values.pop("report_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return _form_page(request, values, status=403, error=_STALE)
    photos = await _photos(form)
    engine = engine_of(request)
    try:
        case_id, code = await run_in_threadpool(
            file_report,
            engine,
            limits_of(request.app.state),
            client_address(request),
            values,
            photos,
        )
    except FormRefused as refused:
        return _form_page(request, values, refused.problems, status=refused.status)
    except ChallengeRefused as refused:
        return _form_page(request, values, status=403, error=str(refused).split(" (")[0])
    except TooManyReports as refused:
        return _too_many(request, refused)
    return render(
        request,
        "public/report_done.html",
        {"code": receipts.display(code), "plain": code, "case_id": case_id},
    )


@router.get("/r")
def receipt_lookup(
    request: Request, code: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    if code is None:
        return render(request, "public/receipt_lookup.html", {})
    found = receipts.normalise(code)
    if found is None:
        return _not_found(request, code)
    return RedirectResponse(f"/r/{receipts.display(found)}", status_code=303)


def _not_found(request: Request, given: str) -> Response:
    message = str(ReceiptNotFound()).split(" (")[0]
    return render(
        request, "public/receipt_lookup.html", {"error": message, "given": given}, status=404
    )


@router.get("/r/{receipt}")
def receipt_status(request: Request, receipt: str) -> Response:
    engine = engine_of(request)
    try:
        case_id = receipts.case_of(engine, receipt)
        status = receipts.status_of(engine, case_id, request.app.state.labels)
    except ReceiptNotFound:
        return _not_found(request, receipt)
    code = receipts.normalise(receipt) or ""
    context = {"status": status, "code": receipts.display(code)}
    return render(request, "public/receipt.html", context)
