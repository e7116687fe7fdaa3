"""Tables in and out: CSV (UTF-8 with BOM on export; UTF-8, UTF-8 with BOM or GB18030 on import),
Excel .xlsx (openpyxl), and plain-text tables for the terminal that line up Chinese text."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from engine.errors import FieldError, InvalidInput

__all__ = [
    "FORMATS",
    "Sheet",
    "UnreadableFile",
    "format_table",
    "read_sheet",
    "table_format",
    "write_table",
]

FORMATS = ("csv", "xlsx")
# A cell that begins with one of these is a formula to a spreadsheet (CSV injection): exports
# write it as text, in CSV behind one added ``'`` (OWASP), in .xlsx as a string cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def _csv_text(value: Any) -> Any:
    """A CSV cell as written: text that a spreadsheet would run gets the text mark."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return TEXT_MARK + value
    return "" if value is None else value


def _csv_unmark(value: str) -> str:
    """A CSV cell as read: one leading ``'`` is dropped where an export added it (the rest
    begins with a formula character); any other ``'`` is the writer's and stays."""
    if value.startswith(TEXT_MARK) and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


class UnreadableFile(InvalidInput):
    """The file cannot be read as a table (named in the message)."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "The file cannot be read as a table"

    def __init__(self, message: str) -> None:
        self.what = "file"
        self.errors = [FieldError("$", message)]
        Exception.__init__(self, message)


@dataclass(frozen=True)
class Sheet:
    """A table read from a file: its header and its non-empty rows with their line numbers."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UnreadableFile(f"{path}: use a .csv or .xlsx file, not {suffix or 'no suffix'!r}")
    return suffix


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def _blank(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GB18030/GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{path}: not UTF-8 or GB18030 text")


def _read_csv(path: Path) -> Sheet:
    reader = csv.reader(io.StringIO(_decode(path.read_bytes(), path), newline=""))
    try:
        header = [_csv_unmark(_cell(h)) for h in next(reader)]
    except StopIteration:
        raise UnreadableFile(f"{path}: empty file") from None
    except csv.Error as exc:
        raise UnreadableFile(f"{path}:1: {exc}") from None
    rows: list[tuple[int, list[Any]]] = []
    start = reader.line_num + 1
    try:
        for row in reader:
            if not _blank(row):
                rows.append((start, [_csv_unmark(_cell(v)) for v in row]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"{path}:{start}: {exc}") from None
    return Sheet(header, rows)


def _read_xlsx(path: Path) -> Sheet:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableFile(f"{path}: not an Excel .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [_cell(h) if h is not None else "" for h in next(lines, ())]
        rows = [
            (number, [_cell(v) for v in row])
            for number, row in enumerate(lines, start=2)
            if not _blank(row)
        ]
    finally:
        book.close()
    if not header:
        raise UnreadableFile(f"{path}: the first sheet is empty")
    return Sheet([str(h) for h in header], rows)


def read_sheet(path: str | Path) -> Sheet:
    """The first sheet (xlsx) or the whole file (csv); line numbers count the header as 1."""
    path = Path(path)
    kind = table_format(path)
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    return _read_csv(path) if kind == "csv" else _read_xlsx(path)


def _excel_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | date | datetime):
        return value
    return str(value)


def _xlsx_cell(sheet: Any, value: Any, bold: bool = False) -> Any:
    """A value as appended to a write-only sheet: openpyxl makes a string that begins with
    ``=`` a formula cell, so such a string (and a header cell, to be bold) is a cell kept a
    string; any other value goes in as it is."""
    if not bold and not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = Font(bold=True)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def write_table(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a table as .csv (UTF-8 with BOM, so Excel reads the Chinese) or .xlsx; returns
    the number of rows written. ``rows`` is consumed one row at a time and each row written
    as it comes (csv.writer; openpyxl's write-only workbook, which streams rows to a
    temporary file): a generator of rows is never held in memory whole."""
    path = Path(path)
    kind = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([_csv_text(h) for h in header])
            for row in rows:
                writer.writerow([_csv_text(v) for v in row])
                count += 1
        return count
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, _excel_value(v)) for v in row])
        count += 1
    book.save(path)
    return count


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; numbers right-aligned, wide (CJK) characters counted as two."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows if row[i] is not None)
        for i in range(len(header))
    ]
    widths = [max([_width(h), *(_width(row[i]) for row in cells)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(_pad(h, widths[i], numeric[i] and bool(rows)) for i, h in enumerate(header)),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append("  ".join(_pad(v, widths[i], numeric[i]) for i, v in enumerate(row)))
    return "\n".join(line.rstrip() for line in lines)
