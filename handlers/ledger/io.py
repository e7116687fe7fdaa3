"""Ledger import and export: CSV and Excel .xlsx with Chinese column headers (English aliases).

The front door of three modules (docs/ledger.md):

- ``cells``: the columns (``COLUMNS``, ``HEADER_OF``), the labels (``LABELS``), reading and
  writing cells (``CellReader``, ``CellWriter``);
- ``importer``: ``import_file`` (all or nothing by default, every bad row reported as
  ``file:line: column: message``, a ``progress`` callback);
- ``exporter``: ``export_file``, streamed page by page in constant memory.
"""

from __future__ import annotations

from handlers.ledger.cells import COLUMNS, FIELD_INDEX, HEADER_OF, LABELS, CellReader, CellWriter
from handlers.ledger.exporter import export_file, export_rows
from handlers.ledger.importer import ImportFailed, ImportResult, Progress, RowError, import_file

__all__ = [
    "COLUMNS",
    "FIELD_INDEX",
    "HEADER_OF",
    "LABELS",
    "CellReader",
    "CellWriter",
    "ImportFailed",
    "ImportResult",
    "Progress",
    "RowError",
    "export_file",
    "export_rows",
    "import_file",
]
