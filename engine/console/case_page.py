"""The case page: ``GET /cases/{id}`` and ``POST /cases/{id}/fire/{trigger}``.

A form carries the case version it was rendered at (If-Match) and a random key made then
(Idempotency-Key, kept per console user in ``user_idempotency_keys``): a double click or a
resubmitted form fires once, and the repeat is answered as the first was. Success redirects
(303) to the page with a notice; a payload that breaks its schema (422) re-renders the page
with the form as submitted and each error at its input; a case that moved on (409, 412)
re-renders the fresh page with a message saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from engine.api import idempotency
from engine.api.models import MAX_ID
from engine.console import forms
from engine.console.accounts import SignedIn
from engine.console.case_files import uploaded
from engine.console.case_view import CasePage, Offer
from engine.console.web import ConsoleRoute, Signed, accounts_of, engine_of, labels_of, render
from engine.definition.model import Definition
from engine.definition.sign_off import sign_offs
from engine.errors import (
    CaseError,
    FieldError,
    IdempotencyKeyReused,
    StaleVersion,
    TriggerNotAllowed,
)

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
_HIDDEN = frozenset({"csrf_token", "_form", "_version", "_key"})


def _read(request: Request, signed: SignedIn, case_id: int) -> CasePage:
    """The page's reads, as ``signed`` may read the case (run in a worker thread)."""
    people = {u.username: u.display_name for u in accounts_of(request).users()}
    engine, labels = engine_of(request), labels_of(request)
    return CasePage.read(engine, signed.actor, labels, case_id, people)


def _page(
    request: Request,
    page: CasePage,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    for offer in page.offers:
        offer.inputs = forms.expand(offer.fields, offer.values)
    context: dict[str, Any] = {"page": page, "notice": notice, "problem": problem}
    return render(request, "case/page.html", context, status=status)


@router.get("/cases/{case_id}")
async def case_page(request: Request, signed: Signed, case_id: CaseId) -> Response:
    page = await run_in_threadpool(_read, request, signed, case_id)
    notice = None
    if request.query_params.get("done"):
        notice = f"已办理。案件当前状态：{page.view.state_title}"
    return _page(request, page, notice=notice)


def _fields_of(d: Definition, form_id: str) -> tuple[forms.Field, ...] | None:
    """The form's fields from the case's own definition, whatever state the case is in now
    (a resubmitted form is answered even after the case moved on)."""
    if form_id.startswith("sign-"):
        spec = sign_offs(d).get(form_id[len("sign-") :])
        return forms.fields(spec.payload_schema) if spec is not None else None
    for t in d.transitions:
        if str(t.index) == form_id:
            return forms.fields(t.payload_schema)
    return None


_MOVED_ON = "案件已在您打开页面之后被办理或更新（版本已变化），请查看下方的最新情况后重新办理。"
_NOT_NOW = "该事项当前不能办理：案件状态已变化或办理条件不满足。"
_REUSED = "该表单已经提交过其他内容，请刷新页面后重新填写。"


def _moved_on(error: CaseError) -> str:
    if isinstance(error, StaleVersion):
        return _MOVED_ON
    if isinstance(error, IdempotencyKeyReused):
        return _REUSED
    if isinstance(error, TriggerNotAllowed):
        return _NOT_NOW
    return f"未能办理：{error}"


@router.post("/cases/{case_id}/fire/{trigger}")
async def fire(request: Request, signed: Signed, case_id: CaseId, trigger: str) -> Response:
    form = await request.form()
    try:
        return await _fire(request, signed, case_id, trigger, form)
    finally:
        await form.close()  # the uploaded files' temporary files


async def _fire(
    request: Request, signed: SignedIn, case_id: int, trigger: str, form: FormData
) -> Response:
    engine = engine_of(request)
    form_id = _str(form.get("_form")) or ""
    page = await run_in_threadpool(_read, request, signed, case_id)
    given = _fields_of(page.definition, form_id)
    if given is None:
        return _page(request, page, problem=_NOT_NOW, status=409)
    stored: list[int] = []
    try:
        answer = await _submit(request, signed, page, form_id, given, trigger, form, stored)
    except BaseException:
        await run_in_threadpool(engine.attachments.discard, stored)
        raise
    if answer.status_code != 303:  # refused: the files go too (rows, and blobs nothing names)
        await run_in_threadpool(engine.attachments.discard, stored)
    return answer


async def _submit(
    request: Request,
    signed: SignedIn,
    page: CasePage,
    form_id: str,
    given: tuple[forms.Field, ...],
    trigger: str,
    form: FormData,
    stored: list[int],
) -> Response:
    engine, labels = engine_of(request), labels_of(request)
    values = {
        k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form if k not in _HIDDEN
    }
    version = idempotency.parse_if_match(_str(form.get("_version")))
    key = idempotency.parse_key(_str(form.get("_key")))
    actor, case_id = signed.actor, page.view.id
    workflow = page.definition.name
    try:
        files, faults = await uploaded(engine, actor, form, given, workflow, case_id, stored)
    except CaseError as error:  # the actor may not give these files to the case now
        fresh = await run_in_threadpool(_read, request, signed, case_id)
        return _page(request, fresh, problem=_moved_on(error), status=error.status)
    body, unread = forms.payload(given, values, labels.zone, files)
    faults += unread
    if not faults:
        owner = idempotency.KeyOwner(signed.user.id, user=True)
        try:
            await run_in_threadpool(
                idempotency.fire, engine, owner, actor, case_id, trigger, body, version, key
            )
        except CaseError as error:
            errors = getattr(error, "errors", None)
            if error.status != 422 or not errors or isinstance(error, IdempotencyKeyReused):
                fresh = await run_in_threadpool(_read, request, signed, case_id)
                return _page(request, fresh, problem=_moved_on(error), status=error.status)
            faults = list(errors)
        else:
            return RedirectResponse(f"/cases/{case_id}?done=1", status_code=303)
    offer = page.offer(form_id)
    if offer is None:
        return _page(request, page, problem=_NOT_NOW, status=409)
    _refill(offer, given, values, faults, key)
    return _page(request, page, problem="提交的内容有误，请按提示修改后重新提交。", status=422)


def _refill(
    offer: Offer,
    given: tuple[forms.Field, ...],
    values: Mapping[str, Sequence[str]],
    faults: Sequence[FieldError],
    key: str | None,
) -> None:
    """The form as submitted, each error at its input; the same key (nothing was fired, and
    the files it carried were discarded: a browser cannot refill a file input, so they are
    chosen again)."""
    offer.values = values
    offer.errors, offer.summary = forms.placed(forms.expand(given, values), faults)
    if key:
        offer.key = key


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
