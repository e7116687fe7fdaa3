"""A request body as ``engine.api.limits.BodyLimits`` holds it until the route reads it: in
memory while it is small, in a temporary file once it passes ``SPOOL_AT`` (1 MiB), and handed
on from there in chunks, never joined into one ``bytes`` (an upload of 60 MiB would otherwise
sit in memory twice: its chunks and their join).

Large bodies (past ``SPOOL_AT``) are few at a time: each holds a place of a ``Gate`` (by default
``MAX_LARGE`` = 4 per process) from the moment it passes ``SPOOL_AT`` until the route is done
with it; a large body that finds no free place is ``UploadsBusy`` (503 with ``Retry-After``).
Small bodies (every JSON one, and every form without files) never wait for a place.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any, ClassVar

from starlette.concurrency import run_in_threadpool

from engine.store.faults import Unavailable

__all__ = ["CHUNK", "MAX_LARGE", "SPOOL_AT", "Body", "Gate", "UploadsBusy"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

SPOOL_AT = 1 << 20  # bytes held in memory before a body goes to a temporary file
MAX_LARGE = 4  # large bodies in flight at once, per process
CHUNK = 256 * 1024  # the size of the messages a spooled body is handed on in


class UploadsBusy(Unavailable):
    """Too many large uploads are arriving at once: this one may be sent again shortly."""

    status, kind, exit_code = 503, "uploads-busy", 10
    title = "Too many uploads at once"
    retry_after: ClassVar[int] = 10  # seconds

    def __init__(self) -> None:
        super().__init__(
            "服务器正在接收其他上传，请稍后重新提交 "
            f"(more than {MAX_LARGE} large request bodies at once: try again shortly)"
        )


class Gate:
    """At most ``places`` large bodies at once (shared by the threads of a process)."""

    def __init__(self, places: int = MAX_LARGE) -> None:
        self.places = places
        self._free = threading.BoundedSemaphore(places)

    def enter(self) -> bool:
        return self._free.acquire(blocking=False)

    def leave(self) -> None:
        self._free.release()


class Body:
    """The chunks of one body as they arrive (``add``), then handed on (``receive``); ``close``
    drops the temporary file and frees the gate's place. ``spool``: False keeps the body in
    memory whatever its size (a JSON body, which the depth check reads whole)."""

    def __init__(self, gate: Gate, *, spool: bool = True, spool_at: int = SPOOL_AT) -> None:
        self.gate = gate
        self.spool = spool
        self.spool_at = spool_at
        self.size = 0
        self.file: IO[bytes] | None = None
        self._chunks: list[bytes] = []

    async def add(self, chunk: bytes) -> None:
        """Keep ``chunk``; ``UploadsBusy`` when it makes the body large and no place is free."""
        self.size += len(chunk)
        if self.file is None and self.spool and self.size > self.spool_at:
            if not self.gate.enter():
                raise UploadsBusy
            self.file = tempfile.SpooledTemporaryFile(max_size=self.spool_at)  # noqa: SIM115
            held, self._chunks = self._chunks, []
            for part in held:
                await run_in_threadpool(self.file.write, part)
        if self.file is not None:
            await run_in_threadpool(self.file.write, chunk)
        elif chunk:
            self._chunks.append(chunk)

    def in_memory(self) -> bytes:
        """The whole body of one that stayed in memory (``b""`` for a spooled one)."""
        if self.file is not None:
            return b""
        return self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)

    def receive(self, receive: Receive) -> Receive:
        """``receive`` for the app: the body (one message from memory, or chunks of ``CHUNK``
        from the file), then the client's own messages (a disconnect)."""
        file = self.file
        if file is not None:
            file.seek(0)
        pending = True

        async def replayed() -> Message:
            nonlocal pending
            if not pending:
                return await receive()
            if file is None:
                pending = False
                return {"type": "http.request", "body": self.in_memory(), "more_body": False}
            chunk = await run_in_threadpool(file.read, CHUNK)
            pending = file.tell() < self.size
            return {"type": "http.request", "body": chunk, "more_body": pending}

        return replayed

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            self.gate.leave()
        self._chunks = []
