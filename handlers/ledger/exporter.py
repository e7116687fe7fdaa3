"""Ledger export (docs/ledger.md): the (filtered) ledger as .csv or .xlsx, the columns of
``cells.COLUMNS`` in order with Chinese headers and names, so the file imports back unchanged.

Streamed: the records are read a page at a time (``Ledger.iterate``) and each row is written
as it is made (csv.writer, openpyxl's write-only workbook), so memory stays flat however big
the ledger is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from engine.handlers import Actor
from handlers.ledger.cells import COLUMNS, CellWriter
from handlers.ledger.service import Ledger, OutfallView
from handlers.ledger.tabular import write_table

__all__ = ["PAGE", "export_file", "export_rows"]

PAGE = 1000  # records read from the store at a time


def export_rows(ledger: Ledger, views: Iterable[OutfallView]) -> Iterator[list[Any]]:
    """The rows of ``views`` as the file shows them, one at a time."""
    writer = CellWriter(ledger.reference)
    for view in views:
        yield writer.row(view.record)


def export_file(
    ledger: Ledger,
    path: str | Path,
    actor: Actor | None = None,
    *,
    page: int = PAGE,
    **filters: Any,
) -> int:
    """Write the (filtered) ledger to .csv or .xlsx; returns the number of outfalls."""
    views = ledger.iterate(actor, page=page, **filters)
    return write_table(path, [c.header for c in COLUMNS], export_rows(ledger, views))
