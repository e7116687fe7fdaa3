"""The blob store and the sniffing and image copies under it."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from PIL import Image

from engine.blobs import FileBlobStore, MemoryBlobStore, digest_of
from engine.blobs.images import THUMB_PX, derive, readable
from engine.blobs.sniff import sniff
from tests.attachkit import GPS_IFD, jpeg, jpeg_with_gps, png


def test_same_bytes_are_one_read_only_blob_named_by_their_digest(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    data = png()
    first, second = store.put(data), store.put(data)
    assert first == second == digest_of(data)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [tmp_path / first[:2] / first]
    assert store.get(first) == data
    assert not files[0].stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert store.get("0" * 64) is None
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.get("../../etc/passwd")


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_delete_removes_a_blob_and_its_copies_only(tmp_path: Path, kind: str) -> None:
    store = FileBlobStore(tmp_path) if kind == "file" else MemoryBlobStore()
    gone, kept = store.put(png()), store.put(jpeg())
    for digest in (gone, kept):
        store.put_derived(digest, "thumb", b"t")
    store.delete(gone)
    store.delete(gone)  # already gone: nothing to do
    assert (store.get(gone), store.get_derived(gone, "thumb")) == (None, None)
    assert (store.get(kept), store.get_derived(kept, "thumb")) == (jpeg(), b"t")


def test_derived_copies_are_kept_by_original_digest_and_variant(tmp_path: Path) -> None:
    for store in (FileBlobStore(tmp_path), MemoryBlobStore()):
        digest = store.put(b"original")
        store.put_derived(digest, "thumb", b"small")
        assert store.get_derived(digest, "thumb") == b"small"
        assert store.get_derived(digest, "public") is None
    assert (tmp_path / "derived" / digest[:2] / f"{digest}.thumb").read_bytes() == b"small"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(), "image/jpeg"),
        (png(), "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
    ids=["jpeg", "png", "webp", "pdf", "gif", "svg", "empty"],
)
def test_the_type_comes_from_the_bytes(data: bytes, expected: str | None) -> None:
    assert sniff(data) == expected


def test_an_image_that_does_not_decode_is_not_readable() -> None:
    assert readable(png(), "image/png") is None
    assert readable(png()[:40], "image/png") is not None  # truncated
    assert readable(png(), "image/jpeg") == "the bytes are PNG, not image/jpeg"


def test_the_public_copy_has_no_gps_location_and_the_thumbnail_is_small() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the phone's location
    public, public_type = derive(original, "image/jpeg", "public")
    assert public_type == "image/jpeg"
    cleaned = Image.open(io.BytesIO(public))
    assert cleaned.size == (1200, 900)
    assert not cleaned.getexif()
    assert b"QingliuPhone" not in public
    assert b"Exif" not in public
    thumb, thumb_type = derive(original, "image/jpeg", "thumb")
    small = Image.open(io.BytesIO(thumb))
    assert thumb_type == "image/jpeg"
    assert max(small.size) == THUMB_PX
    assert small.size == (320, 240)
    assert not small.getexif()
