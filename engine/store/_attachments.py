"""Upload rows of attachments (mixed into ``Tx``); the bytes live in the blob store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select

from engine.store.tables import attachments

__all__ = ["AttachmentQueries", "UploadRow"]


@dataclass(frozen=True)
class UploadRow:
    id: int
    sha256: str
    media_type: str
    size: int
    name: str
    workflow: str
    field: str
    case_id: int | None
    uploaded_by: str
    uploaded_role: str
    created_at: datetime


class AttachmentQueries:
    conn: Connection

    def insert_upload(self, **values: Any) -> int:
        key = self.conn.execute(insert(attachments).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def uploads_of(self, sha256: str) -> list[UploadRow]:
        """Every upload of the blob ``sha256``, oldest first."""
        rows = self.conn.execute(
            select(attachments).where(attachments.c.sha256 == sha256).order_by(attachments.c.id)
        )
        return [UploadRow(**r._mapping) for r in rows]

    def uploads_for(self, sha256: str, case_id: int | None, actor: str) -> list[UploadRow]:
        """The uploads of ``sha256`` that count for ``case_id``: made for that case, or made
        by ``actor`` before any case (``case_id`` None: only those)."""
        before = (attachments.c.case_id.is_(None)) & (attachments.c.uploaded_by == actor)
        where = before if case_id is None else or_(attachments.c.case_id == case_id, before)
        rows = self.conn.execute(
            select(attachments)
            .where(attachments.c.sha256 == sha256, where)
            .order_by(attachments.c.id)
        )
        return [UploadRow(**r._mapping) for r in rows]

    def delete_upload(self, upload_id: int) -> str | None:
        """Delete upload row ``upload_id``; the digest it named (None: no such row)."""
        digest = self.conn.execute(
            select(attachments.c.sha256).where(attachments.c.id == upload_id)
        ).scalar_one_or_none()
        if digest is not None:
            self.conn.execute(delete(attachments).where(attachments.c.id == upload_id))
        return digest

    def upload_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(attachments)).scalar_one())
