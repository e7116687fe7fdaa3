"""Where a write request runs: on the event loop when its turn to write is free, else in the
thread pool.

On SQLite the database takes one writer at a time, so handing every write to a worker thread
buys no parallelism, only the hop and the GIL traffic between the loop and the worker (about
40% of the throughput, measured with ``bench/http_bench.py``). A write whose turn is free runs
on the loop; one that would wait (another thread of this process, or another process such as
``qingliu scheduler`` or an import, is writing) raises ``WriteBusy`` before writing anything
and is run again in the thread pool, where waiting blocks no other request. On PostgreSQL,
where writers do run side by side, every write goes to the thread pool. So does a write with a
large body (``heavy``: over ``HEAVY_BODY_BYTES``, up to the 1 MiB limit), whose schema
validation alone could hold the loop for milliseconds while other clients wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from engine.runtime import Engine
from engine.store.repository import WriteBusy

__all__ = ["HEAVY_BODY_BYTES", "run_write"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# A request body over this many bytes is validated and written in the thread pool; a usual
# transition or case body is a few hundred bytes.
HEAVY_BODY_BYTES = 64 * 1024


async def run_write(engine: Engine, work: Callable[[], T], *, heavy: bool = False) -> T:
    """``work()`` (one or more engine writes, then reads) where it costs least; ``heavy``
    work always in the thread pool."""
    if engine.store.single_writer and not heavy:
        try:
            with engine.store.without_waiting():
                return work()
        except WriteBusy:
            log.debug("the writer's turn is taken: the request waits in a worker thread")
    return await run_in_threadpool(work)
