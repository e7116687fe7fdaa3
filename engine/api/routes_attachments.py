"""Evidence files (docs/attachments.md): upload to a case or for a case about to be opened,
and read back, as ``engine.attachments`` decides. Uploads are ``multipart/form-data`` with a
``file`` and the ``field`` it is for (the data field's dotted path, ``evidence.photos``); the
body limit of these two routes is the largest ``max_bytes`` a definition may give
(``UPLOAD_BODY_BYTES``, ``engine.api.limits``), and the field's own limit applies after. A
console form carries all its files at once: its ceiling is ``FORM_BODY_BYTES``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import Response

from engine.api.auth import current_actor
from engine.api.deps import get_engine
from engine.api.models import MAX_ID
from engine.api.problems import problem_responses
from engine.api.writes import run_write
from engine.definition.attachments import FORM_BYTES, MAX_BYTES
from engine.handlers import Actor
from engine.runtime import Engine

__all__ = ["FORM_BODY_BYTES", "FORM_PATHS", "UPLOAD_BODY_BYTES", "UPLOAD_PATHS", "router"]

router = APIRouter(prefix="/api/v1", tags=["attachments"])

# The file at its largest, with room for the multipart framing and the field name.
UPLOAD_BODY_BYTES = MAX_BYTES + 64 * 1024
# The API's upload routes (one file each).
UPLOAD_PATHS = re.compile(r"/api/v1/(cases/[0-9]+|workflows/[^/]+)/attachments")
# The console's forms (a form with file inputs posts multipart): every file of the form at
# once, as ``FORM_BYTES`` allows (the largest form of the shipped definitions fits), with room.
FORM_BODY_BYTES = FORM_BYTES + 1024 * 1024
FORM_PATHS = re.compile(r"/cases/[0-9]+/fire/[^/]+")

EngineDep = Annotated[Engine, Depends(get_engine)]
ActorDep = Annotated[Actor, Depends(current_actor)]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case id")]
FileDep = Annotated[UploadFile, File(description="the file (JPEG, PNG, WebP or PDF)")]
FieldDep = Annotated[
    str,
    Form(min_length=1, max_length=200, description="the attachment field, e.g. evidence.photos"),
]
Digest = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="the file's SHA-256")]
_UPLOADS = problem_responses(400, 401, 403, 404, 413, 415, 422, 503)


@router.post(
    "/cases/{case_id}/attachments",
    status_code=201,
    responses=_UPLOADS,
    summary="Upload a file to an attachment field of a case; name it in a payload after",
)
async def upload_to_case(
    case_id: CaseId, file: FileDep, field: FieldDep, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        workflow = engine.get_case(case_id, actor).case.workflow
        data = file.file.read()
        return engine.attachments.upload(
            data, file.filename or "", actor, workflow=workflow, field=field, case_id=case_id
        )

    return await run_write(engine, work, heavy=True)


@router.post(
    "/workflows/{name}/attachments",
    status_code=201,
    responses=_UPLOADS,
    summary="Upload a file for a case you are about to open; name it in the case's data",
)
async def upload_to_workflow(
    name: Annotated[str, Path(max_length=64)],
    file: FileDep,
    field: FieldDep,
    engine: EngineDep,
    actor: ActorDep,
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        data = file.file.read()
        return engine.attachments.upload(
            data, file.filename or "", actor, workflow=name, field=field
        )

    return await run_write(engine, work, heavy=True)


@router.get(
    "/cases/{case_id}/attachments/{sha256}",
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}}
        },
        **problem_responses(401, 404, 422),
    },
    response_class=Response,
    summary="Read a file of a case: the original, its public copy (no metadata) or thumbnail",
)
def read_attachment(
    case_id: CaseId,
    sha256: Digest,
    engine: EngineDep,
    actor: ActorDep,
    variant: Annotated[Literal["original", "public", "thumb"], Query()] = "original",
) -> Response:
    data, media_type = engine.attachments.read(sha256, actor, case_id=case_id, variant=variant)
    return Response(
        data,
        media_type=media_type,
        headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline" if media_type != "application/pdf" else "attachment",
        },
    )
