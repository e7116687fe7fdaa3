"""The import's progress bar (tqdm) on the terminal: shown on stderr when it is a terminal,
never when it is not (a pipe, a file, a test) or with ``--quiet``; stdout keeps only the
result line."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from tqdm import tqdm

from handlers.ledger.importer import Progress

__all__ = ["import_bar", "is_terminal"]


def is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def import_bar(quiet: bool = False, stream: IO[str] | None = None) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback drawing the bar, or None when none is shown."""
    out = stream if stream is not None else sys.stderr
    if quiet or not is_terminal(out):
        yield None
        return
    # The terminal's size, 80 × 24 when it reports none: tqdm draws nothing on a terminal of
    # 0 columns or 0 lines (a pty nobody sized, e.g. under `script` or a CI runner).
    size = shutil.get_terminal_size((80, 24))
    bar = tqdm(desc="导入台账", unit="行", file=out, ncols=min(size.columns, 120), nrows=size.lines)

    def advance(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield advance
    finally:
        bar.close()
