"""The blobs' part of ``qingliu audit verify``: every attachment value in the history (a
payload or a patch) names a blob that is in the store and whose bytes hash to its digest. A
history row is sealed by the keyed chain, so a photo swapped on disk, or deleted, is caught."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.blobs.store import BlobStore, digest_of
from engine.definition.attachments import is_attachment
from engine.store.repository import Tx

__all__ = ["attachments_in", "blob_problems"]


def attachments_in(value: Any) -> Iterator[str]:
    """The digests of the attachment values anywhere in ``value``."""
    if is_attachment(value):
        yield value["sha256"]
    elif isinstance(value, Mapping):
        for each in value.values():
            yield from attachments_in(each)
    elif isinstance(value, list):
        for each in value:
            yield from attachments_in(each)


def blob_problems(tx: Tx, blobs: BlobStore) -> Iterator[str]:
    """One sentence per history row that names a missing or altered blob (each blob is read
    and hashed once)."""
    verdicts: dict[str, str | None] = {}
    for row, _ in tx.chained_events():
        for digest in dict.fromkeys(attachments_in([row.payload, row.patch])):
            if digest not in verdicts:
                verdicts[digest] = _verdict(blobs, digest)
            if verdicts[digest] is not None:
                yield f"case {row.case_id} event {row.seq}: attachment {digest} {verdicts[digest]}"


def _verdict(blobs: BlobStore, digest: str) -> str | None:
    data = blobs.get(digest)
    if data is None:
        return "is missing from the blob store (restore the blob folder from its backup)"
    if digest_of(data) != digest:
        return "does not hash to its digest: the file was altered after it was uploaded"
    return None
