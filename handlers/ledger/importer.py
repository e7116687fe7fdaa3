"""Ledger import (docs/ledger.md): a .csv or .xlsx file into the ledger, all or nothing.

- Every row is checked; every problem reads ``file:line: column: message``. If any row is bad,
  nothing is written, unless ``partial``: then the good rows are kept and the bad ones are
  reported.
- A row whose code is already in the ledger updates that outfall (export, edit, import back);
  a new code adds the outfall and starts its responsibility case.
- Fast by default: the new rows are checked first without touching the store, then written
  together (one statement for the records and their history rows, ``TxOps.add_subjects``) and
  their cases opened, in one transaction. If a row fails only as it is written (its case is
  refused, say), that transaction is undone and the file is imported again row by row, each
  row in its own savepoint, which names the row: the same outcome, slower.
- ``progress(done, total)`` is called as rows are done (the CLI's progress bar).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.case_ops import TxOps
from engine.errors import ConfigError, FieldError, InvalidInput, QingliuError
from engine.handlers import Actor
from engine.store.repository import Tx
from handlers.ledger.cells import COLUMNS, HEADER_OF, CellReader, Column
from handlers.ledger.record import KIND
from handlers.ledger.service import Ledger, ledger_actor, open_responsibility
from handlers.ledger.tabular import Sheet, read_sheet

__all__ = ["ImportFailed", "ImportResult", "Progress", "RowError", "import_file"]

# progress(done, total): rows done (written, or found bad) of the file's rows
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    source: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.column}: {self.message}"


class ImportFailed(InvalidInput):
    """Some rows are bad; nothing was written (or, with ``partial``, only the good rows)."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "Rows of the file break the ledger's rules"

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.what = "file"
        self.errors = [FieldError(f"$[{e.line}]", str(e)) for e in result.errors]
        lines = "\n".join(str(e) for e in result.errors)
        kept = f"{result.added} added, {result.updated} updated" if result.written else "nothing"
        Exception.__init__(self, f"{len(result.errors)} problem(s); {kept} written:\n{lines}")


@dataclass
class ImportResult:
    rows: int = 0
    added: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False


# -- import -----------------------------------------------------------------------------------


def _columns(sheet: Sheet, source: str) -> tuple[dict[int, Column], list[RowError]]:
    names: dict[str, Column] = {}
    for column in COLUMNS:
        for name in (column.header, column.field, *column.aliases):
            names[name.lower()] = column
    found: dict[int, Column] = {}
    errors: list[RowError] = []
    for index, title in enumerate(sheet.header):
        if not title:
            continue
        named = names.get(title.lower())
        if named is None:
            errors.append(RowError(source, 1, title, "unknown column"))
        elif named in found.values():
            errors.append(RowError(source, 1, title, f"column {named.header} given twice"))
        else:
            found[index] = named
    present = {c.field for c in found.values()}
    for name in ("code", "name", "sub_type", "county", "river"):
        if name not in present:
            errors.append(RowError(source, 1, HEADER_OF[name], "required column is missing"))
    return found, errors


@dataclass(frozen=True)
class _Row:
    line: int
    record: dict[str, Any]
    titles: dict[str, str]  # field -> column title as written in the file


def _records(
    sheet: Sheet, columns: dict[int, Column], reader: CellReader, source: str
) -> tuple[list[_Row], list[RowError]]:
    rows: list[_Row] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    titles = {c.field: sheet.header[i] for i, c in columns.items()}
    for line, cells in sheet.rows:
        record: dict[str, Any] = {}
        bad = False
        for index, column in columns.items():
            raw = cells[index] if index < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw):
                continue
            try:
                record[column.field] = reader.value(column.field, raw)
            except ValueError as exc:
                errors.append(RowError(source, line, titles[column.field], str(exc)))
                bad = True
        code = record.get("code")
        if isinstance(code, str) and code in first_line:
            errors.append(
                RowError(source, line, titles["code"], f"{code} is also on line {first_line[code]}")
            )
            bad = True
        elif isinstance(code, str):
            first_line[code] = line
        if not bad:
            rows.append(_Row(line, record, titles))
    return rows, errors


def _row_errors(source: str, row: _Row, error: QingliuError) -> list[RowError]:
    found = getattr(error, "errors", None)
    if not found:
        return [RowError(source, row.line, row.titles.get("code", "编码"), str(error))]
    out = []
    for item in found:
        assert isinstance(item, FieldError)
        name = item.json_path[2:].split(".")[0].split("[")[0]
        if name == "outfall_code":
            name = "code"
        title = row.titles.get(name) or HEADER_OF.get(name) or (name or "-")
        out.append(RowError(source, row.line, title, item.message))
    return out


class _Rollback(Exception):
    pass


class _Retry(Exception):
    """A row failed as it was written: import again row by row."""


class _Ticker:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def add(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None and rows:
            self.progress(self.done, self.total)


def import_file(
    ledger: Ledger,
    path: str | Path,
    actor: Actor,
    *,
    partial: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a .csv or .xlsx file; raises ImportFailed listing every bad row."""
    source = str(path)
    sheet = read_sheet(path)
    result = ImportResult(rows=len(sheet.rows))
    columns, header_errors = _columns(sheet, source)
    if header_errors:
        result.errors = header_errors
        raise ImportFailed(result)
    rows, cell_errors = _records(sheet, columns, CellReader(ledger.reference), source)
    result.errors = list(cell_errors)
    tick = _Ticker(progress, len(sheet.rows))
    tick.add(len(sheet.rows) - len(rows))  # rows with a bad cell are done
    try:
        try:
            _bulk(ledger, rows, actor, source, result, partial, tick)
        except _Retry:
            result.added = result.updated = 0
            result.errors = list(cell_errors)
            tick.done = len(sheet.rows) - len(rows)
            _row_by_row(ledger, rows, actor, source, result, partial, tick)
    except _Rollback:
        result.added = result.updated = 0
    else:
        result.written = True
    result.errors.sort(key=lambda e: e.line)
    if result.errors:
        raise ImportFailed(result)
    return result


def _bulk(
    ledger: Ledger,
    rows: list[_Row],
    actor: Actor,
    source: str,
    result: ImportResult,
    partial: bool,
    tick: _Ticker,
) -> None:
    with ledger.engine.transaction(ledger_actor(actor)) as (tx, ops):
        assert isinstance(ops, TxOps)
        codes = [str(r.record["code"]) for r in rows if isinstance(r.record.get("code"), str)]
        known = tx.existing_keys(KIND, codes)
        new: list[dict[str, Any]] = []
        for row in rows:
            if row.record.get("code") in known:
                _update(ledger, tx, ops, row, actor, source, result)
                tick.add(1)
                continue
            try:
                new.append(ledger.new_record(row.record, actor))
            except ConfigError:
                raise
            except QingliuError as exc:
                result.errors.extend(_row_errors(source, row, exc))
                tick.add(1)
        try:
            ops.add_subjects(KIND, [(r["code"], r, r["county"]) for r in new], by=actor)
            for record in new:
                open_responsibility(ops, record)
                result.added += 1
                tick.add(1)
        except ConfigError:
            raise
        except QingliuError as exc:
            raise _Retry from exc
        if result.errors and not partial:
            raise _Rollback


def _update(
    ledger: Ledger, tx: Tx, ops: TxOps, row: _Row, actor: Actor, source: str, result: ImportResult
) -> None:
    """A known outfall's row, in a savepoint of its own (an update is checked as written)."""
    try:
        with tx.savepoint():
            ledger.update_in(tx, ops, str(row.record["code"]), row.record, actor)
        result.updated += 1
    except ConfigError:
        raise  # not the row's fault: stop, nothing written
    except QingliuError as exc:
        result.errors.extend(_row_errors(source, row, exc))


def _row_by_row(
    ledger: Ledger,
    rows: list[_Row],
    actor: Actor,
    source: str,
    result: ImportResult,
    partial: bool,
    tick: _Ticker,
) -> None:
    with ledger.engine.transaction(ledger_actor(actor)) as (tx, ops):
        for row in rows:
            try:
                with tx.savepoint():
                    if ledger.upsert_in(tx, ops, row.record, actor):
                        result.added += 1
                    else:
                        result.updated += 1
            except ConfigError:
                raise  # not the row's fault: stop, nothing written
            except QingliuError as exc:
                result.errors.extend(_row_errors(source, row, exc))
            tick.add(1)
        if result.errors and not partial:
            raise _Rollback
