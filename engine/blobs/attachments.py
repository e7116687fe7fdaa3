"""``engine.attachments``: upload evidence files, read them back, and check the attachment
values of a new case's data or a trigger's payload (docs/attachments.md).

- ``upload`` checks the file against its field's rule (``engine.definition.attachments``):
  size first, then the type sniffed from the bytes, then that an image decodes; only then is
  anything stored: the blob, its public copy and thumbnail, and the upload row, in one transaction.
  A refusal (``TooLarge`` 413, ``UnsupportedMedia`` 415) stores nothing. An upload to a case
  needs what the fire would: a trigger the actor may fire now whose payload has the field
  (``Forbidden`` otherwise; ``CaseNotFound`` for a case it may not read).
- ``read`` answers a blob of a case to whoever may read the case (``NotFound`` otherwise, as
  for the case itself), and only a blob uploaded for the case or that the case names as an
  attachment value (its data, or an attachment field of its history; not a digest in text).
- ``check`` runs inside ``create_case`` and ``fire``: every attachment value that is new in
  the data, or given in the payload, must name an upload that counts for the case (made for it,
  or by the actor before the case existed), of a type and size its field accepts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.blobs import images
from engine.blobs.errors import TooLarge, UnsupportedMedia
from engine.blobs.naming import clean_name
from engine.blobs.sniff import sniff
from engine.blobs.store import BlobStore
from engine.catalog import Catalog
from engine.clock import Clock
from engine.definition.attachments import (
    IMAGE_TYPES,
    PDF,
    Rule,
    attachment_values,
    is_attachment,
    is_digest,
    rule_at,
)
from engine.definition.compile import CompiledWorkflow
from engine.definition.model import ADMIN, SYSTEM, Definition, TransitionSpec
from engine.definition.sign_off import sign_offs
from engine.errors import FieldError, Forbidden, InvalidInput, InvalidRequest, NotFound
from engine.handlers import Actor
from engine.store._attachments import UploadRow
from engine.store.repository import CaseRow, Store, Tx

__all__ = ["Attachments", "Host", "field_rule"]


class Host(Protocol):
    """What ``Attachments`` uses of the engine."""

    store: Store
    catalog: Catalog
    clock: Clock

    def _load(self, tx: Tx, case_id: int, actor: Actor | None, *, lock: bool = False) -> CaseRow:
        """The case row if ``actor`` may read it, else CaseNotFound."""

    def get_case_in(self, tx: Tx, case_id: int, actor: Actor | None = None) -> Any:
        """The case as ``actor`` sees it, with the triggers it may fire now."""


def field_rule(d: Definition, field: str) -> Rule | None:
    """The rule of attachment field ``field`` (dotted) in ``d``'s data schema, or else in a
    trigger's payload schema."""
    found = rule_at(d.data_schema, field)
    for t in d.transitions:
        if found is not None:
            break
        found = rule_at(t.payload_schema, field)
    return found


@dataclass(frozen=True)
class _Target:
    workflow: str
    rule: Rule
    case_id: int | None


class Attachments:
    def __init__(self, host: Host, blobs: BlobStore) -> None:
        self.host = host
        self.blobs = blobs

    # -- upload -------------------------------------------------------------------------------

    def upload(
        self,
        data: bytes,
        filename: str,
        actor: Actor,
        *,
        workflow: str,
        field: str,
        case_id: int | None = None,
        into: list[int] | None = None,
    ) -> dict[str, Any]:
        """Store ``data`` as an attachment for ``field`` of ``workflow`` (of case ``case_id``,
        or of a case ``actor`` is about to open): the attachment value to put in the data or
        the payload. ``TooLarge``, ``UnsupportedMedia``: nothing is stored. The new upload
        row's id is appended to ``into``, for ``discard`` if what the file was for fails."""
        with self.host.store.read() as tx:
            target = self._target(tx, workflow, field, case_id, actor)
        media_type = _admit(data, target.rule)
        copies = (
            [(v, images.derive(data, media_type, v)[0]) for v in ("public", "thumb")]
            if media_type in IMAGE_TYPES
            else []
        )
        name = clean_name(filename)
        with self.host.store.write() as tx:
            if case_id is not None:
                self.host._load(tx, case_id, actor)  # still readable by the actor
            digest = self.blobs.put(data)
            for variant, copy in copies:
                self.blobs.put_derived(digest, variant, copy)
            row_id = tx.insert_upload(
                sha256=digest,
                media_type=media_type,
                size=len(data),
                name=name,
                workflow=target.workflow,
                field=field,
                case_id=case_id,
                uploaded_by=actor.name,
                uploaded_role=actor.role,
                created_at=self.host.clock.now(),
            )
        if into is not None:
            into.append(row_id)
        return {"sha256": digest, "name": name, "type": media_type, "size": len(data)}

    def discard(self, upload_ids: list[int]) -> None:
        """Undo uploads made for a fire or a new case that was then refused: delete the rows
        ``upload_ids`` and every blob (with its copies) no other upload row names."""
        if not upload_ids:
            return
        with self.host.store.write() as tx:  # blobs go inside: an upload puts inside its write
            digests = {tx.delete_upload(i) for i in upload_ids}
            for digest in sorted(d for d in digests if d is not None):
                if not tx.uploads_of(digest):
                    self.blobs.delete(digest)
        upload_ids.clear()

    def _target(
        self, tx: Tx, workflow: str, field: str, case_id: int | None, actor: Actor
    ) -> _Target:
        row = None
        if case_id is not None:
            row = self.host._load(tx, case_id, actor)
            if row.workflow != workflow:
                message = f"case {case_id} is a {row.workflow!r} case, not {workflow!r}"
                raise InvalidRequest(message, [FieldError("$.workflow", message)])
            d = self.host.catalog.compiled(tx, row.definition_id).definition
        else:
            d = self.host.catalog.latest_row(tx, workflow)[1].definition
            if actor.role not in (ADMIN, SYSTEM) and actor.role not in d.roles:
                raise Forbidden(
                    f"role {actor.role!r} may not open {workflow!r} cases", role=actor.role
                )
        rule = field_rule(d, field)
        if rule is None:
            message = f"{field!r} is not an attachment field of {d.name!r} (format: attachment)"
            raise InvalidRequest(message, [FieldError("$.field", message)])
        if row is not None:
            self._may_give(tx, d, row, field, actor)
        return _Target(d.name, rule, case_id)

    def _may_give(self, tx: Tx, d: Definition, row: CaseRow, field: str, actor: Actor) -> None:
        """Forbidden unless ``actor`` may fire, in the case's state now, a trigger whose
        payload has attachment field ``field`` (as ``fire`` decides: role, jurisdiction,
        party, ``when`` and guards; a sign-off's own trigger for a party yet to sign)."""
        may = set(self.host.get_case_in(tx, row.id, actor).available_triggers or [])
        schemas = [t.payload_schema for t in d.transitions_from(row.state) if t.trigger in may]
        spec = sign_offs(d).get(row.state)
        if spec is not None and spec.trigger in may:
            schemas.append(spec.payload_schema)
        if not any(rule_at(schema, field) is not None for schema in schemas):
            raise Forbidden(
                f"{actor.name} may fire no trigger of case {row.id} in {row.state!r} "
                f"that takes {field!r}",
                role=actor.role,
            )

    # -- read ---------------------------------------------------------------------------------

    def read(
        self, sha256: str, actor: Actor | None, *, case_id: int, variant: str = "original"
    ) -> tuple[bytes, str]:
        """The bytes of attachment ``sha256`` of case ``case_id`` and their media type;
        ``variant``: ``original``, ``public`` (metadata stripped) or ``thumb``."""
        if variant not in images.VARIANTS:
            message = f"variant must be one of {', '.join(images.VARIANTS)}"
            raise InvalidRequest(message, [FieldError("$.variant", message, "query")])
        with self.host.store.read() as tx:
            self.host._load(tx, case_id, actor)
            media_type = self._type_on_case(tx, sha256, case_id) if is_digest(sha256) else None
        if media_type is None:
            raise NotFound(f"case {case_id} has no attachment {sha256}")
        if variant == "original" or (media_type == PDF and variant == "public"):
            return self._original(sha256), media_type
        if media_type not in IMAGE_TYPES:
            raise NotFound(f"attachment {sha256} is a {media_type}: it has no {variant} copy")
        kept = self.blobs.get_derived(sha256, variant)
        if kept is not None:
            return kept, sniff(kept) or media_type
        copy, copy_type = images.derive(self._original(sha256), media_type, variant)
        self.blobs.put_derived(sha256, variant, copy)
        return copy, copy_type

    def _original(self, sha256: str) -> bytes:
        found = self.blobs.get(sha256)
        if found is None:
            raise NotFound(f"attachment {sha256} is missing from the blob store (audit verify)")
        return found

    def _type_on_case(self, tx: Tx, sha256: str, case_id: int) -> str | None:
        """The media type of ``sha256`` if it was uploaded for case ``case_id`` or is an
        attachment value of the case: in its data, or at an attachment field of a payload or
        patch in its history (a digest written in free text does not count); None otherwise."""
        uploads = tx.uploads_of(sha256)
        if not uploads:
            return None
        if any(u.case_id == case_id for u in uploads):
            return uploads[0].media_type
        if sha256 in self._named(tx, case_id):
            return uploads[0].media_type
        return None

    def _named(self, tx: Tx, case_id: int) -> set[str]:
        """The digests of every attachment value case ``case_id`` holds or held."""
        row = tx.get_case(case_id)
        assert row is not None  # read by the caller
        d = self.host.catalog.compiled(tx, row.definition_id).definition
        schemas = [d.data_schema] + [t.payload_schema for t in d.transitions]
        schemas += [spec.payload_schema for spec in sign_offs(d).values()]
        found = list(attachment_values(d.data_schema, row.data))
        for event in tx.events(case_id):  # any trigger's schema: a value is an object, not text
            found += attachment_values(d.data_schema, event.patch.get("set", {}))
            for schema in schemas:
                found += attachment_values(schema, event.payload)
        return {v["sha256"] for _, v, _ in found if is_attachment(v)}

    # -- the check in create_case and fire ----------------------------------------------------

    def check(
        self,
        tx: Tx,
        wf: CompiledWorkflow,
        case_id: int,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        actor: Actor,
        fired: tuple[TransitionSpec, Mapping[str, Any]] | None = None,
        *,
        trusted: bool = False,
    ) -> None:
        """Raise ``InvalidInput`` (at each value's JSON path) unless every attachment value
        in ``fired``'s payload, and every one new in ``after`` (the data) since ``before``,
        names a fitting upload. ``trusted`` (a handler opened the case): an upload of the
        blob by anyone will do."""
        known = {
            v["sha256"]
            for _, v, _ in attachment_values(wf.definition.data_schema, before)
            if is_attachment(v)
        }
        if fired is not None:
            taken, payload = fired
            found = list(attachment_values(taken.payload_schema, payload))
            errors = list(self._faults(tx, found, case_id, actor, trusted))
            if errors:
                raise InvalidInput("payload", errors)
            known |= {v["sha256"] for _, v, _ in found if is_attachment(v)}
        new = [
            (path, v, rule)
            for path, v, rule in attachment_values(wf.definition.data_schema, after)
            if not (is_attachment(v) and v["sha256"] in known)
        ]
        errors = list(self._faults(tx, new, case_id, actor, trusted))
        if errors:
            raise InvalidInput("data", errors)

    def _faults(
        self,
        tx: Tx,
        values: list[tuple[str, Any, Rule]],
        case_id: int,
        actor: Actor,
        trusted: bool,
    ) -> Iterator[FieldError]:
        for path, value, rule in values:
            if not is_attachment(value):
                yield FieldError(path, "an attachment is {sha256, name, type, size} (upload it)")
                continue
            uploads = (
                tx.uploads_of(value["sha256"])
                if trusted
                else tx.uploads_for(value["sha256"], case_id, actor.name)
            )
            problem = _misfit(value, rule, uploads)
            if problem:
                yield FieldError(path, problem)


def _misfit(value: Mapping[str, Any], rule: Rule, uploads: list[UploadRow]) -> str | None:
    if not uploads:
        return f"no file {value['sha256']} was uploaded for this case (upload it first)"
    upload = uploads[-1]
    if value["type"] != upload.media_type or value["size"] != upload.size:
        return f"type and size must be those of the upload ({upload.media_type}, {upload.size})"
    if upload.media_type not in rule.accept:
        return f"this field does not accept {upload.media_type} ({', '.join(rule.accept)})"
    if upload.size > rule.max_bytes:
        return f"the file is larger than this field's limit of {rule.limit_text()}"
    return None


def _admit(data: bytes, rule: Rule) -> str:
    """The media type of ``data`` if ``rule`` takes it; else the refusal, in both languages."""
    if len(data) > rule.max_bytes:
        limit = rule.limit_text()
        raise TooLarge(f"文件超过 {limit} (file larger than {limit})")
    accepted = ", ".join(rule.accept)
    if not data:
        raise UnsupportedMedia(f"文件为空 (the file is empty; accepted: {accepted})")
    media_type = sniff(data)
    if media_type is None or media_type not in rule.accept:
        what = media_type or "无法识别的类型 (an unrecognised type)"
        raise UnsupportedMedia(
            f"文件类型 {what} 不被接受，可接受：{accepted} "
            f"(the file's bytes are {media_type or 'of no accepted type'}; accepted: {accepted})"
        )
    if media_type in IMAGE_TYPES:
        why = images.readable(data, media_type)
        if why is not None:
            raise UnsupportedMedia(f"图片无法读取 (the image cannot be read: {why})")
    return media_type
