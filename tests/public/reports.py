"""Filing 随手拍 reports through the form as a client does: read the form's token and
challenge, solve the challenge in Python, post the multipart form."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

from fastapi.testclient import TestClient

from handlers.public import challenge

__all__ = ["FIELDS", "file", "form_of", "png"]

FIELDS = {
    "county": "dongchangfu",
    "longitude": "115.985",
    "latitude": "36.456",
    "address": "徒骇河东昌府区段桥下东侧",
    "description": "排口冒黑水，有刺鼻气味",
    "name": "张三",
    "phone": "13800138000",
}


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, small PNG (grey pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def form_of(page: str) -> dict[str, str]:
    """The hidden fields of the /report form in ``page``."""
    found = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert "report_token" in found, page[:2000]
    assert "challenge" in found
    return found


def file(
    client: TestClient,
    fields: dict[str, str] | None = None,
    photos: list[tuple[str, bytes, str]] | None = None,
    *,
    solve: bool = True,
    hidden: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """GET /report, then POST it with ``fields`` (default ``FIELDS``) and ``photos`` (default:
    one PNG); ``hidden`` overrides the form's hidden fields (the challenge solved first)."""
    given = form_of(client.get("/report").text)
    if solve:
        given["nonce"] = challenge.solve(given["challenge"])
    given.update(hidden or {})
    body = {**given, **(FIELDS if fields is None else fields)}
    parts = [
        ("photos", p) for p in (photos if photos is not None else [("p.png", png(), "image/png")])
    ]
    return client.post("/report", data=body, files=parts, **options)
