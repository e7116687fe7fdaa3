"""Files on the case page: ``GET /cases/{id}/files/{sha256}`` answers an attachment of the case
(``?variant=thumb`` for the page's thumbnails) with the case's read access, as
``engine.attachments.read`` decides; and ``uploaded``, the files of a submitted form uploaded
through ``engine.attachments`` before the trigger is fired with their attachment values (and
discarded again, rows and blobs, when the form is refused)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from engine.api.models import MAX_ID
from engine.blobs.errors import TooLarge, UnsupportedMedia
from engine.console.form_fields import Field
from engine.console.web import ConsoleRoute, Signed, engine_of
from engine.errors import FieldError
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["file_inputs", "router", "uploaded"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
Digest = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
_VARIANT = Query(pattern="^(original|public|thumb)$")


@router.get("/cases/{case_id}/files/{sha256}")
async def case_file(
    request: Request,
    signed: Signed,
    case_id: CaseId,
    sha256: Digest,
    variant: Annotated[str, _VARIANT] = "original",
) -> Response:
    engine = engine_of(request)
    data, media_type = await run_in_threadpool(
        engine.attachments.read, sha256, signed.actor, case_id=case_id, variant=variant
    )
    disposition = "attachment" if media_type == "application/pdf" else "inline"
    headers = {"Cache-Control": "private, max-age=86400", "Content-Disposition": disposition}
    return Response(data, media_type=media_type, headers=headers)


def file_inputs(given: Sequence[Field]) -> list[Field]:
    """The file inputs among ``given`` (in groups too)."""
    out = []
    for f in given:
        if f.kind in ("file", "files"):
            out.append(f)
        out.extend(file_inputs(f.children))
    return out


async def uploaded(
    engine: Engine,
    actor: Actor,
    form: FormData,
    given: Sequence[Field],
    workflow: str,
    case_id: int,
    into: list[int],
) -> tuple[dict[str, list[dict[str, Any]]], list[FieldError]]:
    """Each file input's files uploaded for the case: their attachment values by input name,
    and a refusal (too large, a type the field does not take) at the input it came in. The
    upload rows' ids go to ``into``: the caller discards them if the form is refused."""
    out: dict[str, list[dict[str, Any]]] = {}
    faults: list[FieldError] = []
    for f in file_inputs(given):
        for part in form.getlist(f.name):
            if not isinstance(part, UploadFile) or not part.filename:
                continue
            data = await part.read()
            if not data:
                continue
            try:
                value = await run_in_threadpool(
                    engine.attachments.upload,
                    data,
                    part.filename,
                    actor,
                    workflow=workflow,
                    field=f.name,
                    case_id=case_id,
                    into=into,
                )
            except (TooLarge, UnsupportedMedia) as refused:
                faults.append(FieldError("$." + f.name, f"{part.filename}：{refused}"))
                continue
            out.setdefault(f.name, []).append(value)
    return out, faults
