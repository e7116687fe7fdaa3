"""``qingliu report progress|deadlines|overdue|campaign|screening``: thin, it parses, runs the
report, prints or writes it (table, JSON, CSV, Excel)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from engine.cli.base import actor_options
from engine.handlers import Actor
from handlers.ledger.cli import open_ledger
from handlers.ledger.tabular import format_table, write_table
from handlers.reports import compute as reports

__all__ = ["report_command"]


@click.command("report")
@click.argument("which", metavar="NAME", type=click.Choice(sorted(reports.REPORTS)))
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="YYYY-MM-DD (default: the day of the installation clock, UTC+8: qingliu time)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default=None,
    help="default: from --out's suffix, else table",
)
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="write to this file")
@actor_options
def report_command(
    which: str, as_of: str | None, fmt: str | None, out: str | None, actor: Actor
) -> None:
    """Reports: progress (county × type × stage), deadlines (completion against each
    rectification deadline), overdue (late cases and their escalation rung), monitoring
    (the year's sampling rounds by county: due, done, overdue, over limit), patrols (river
    patrols, notices and routine inspections by county), campaign (key-river campaigns by
    county), screening (coverage and new outfalls cleared by county)."""
    ledger = open_ledger()
    try:
        day = date.fromisoformat(as_of) if as_of else reports.today(ledger.engine.clock.now())
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not YYYY-MM-DD", param_hint="--as-of") from None
    fmt = fmt or (Path(out).suffix.lstrip(".").lower() if out else "table")
    if fmt not in ("table", "json", "csv", "xlsx"):
        raise click.BadParameter(f"unknown format {fmt!r}", param_hint="--out")
    if fmt in ("csv", "xlsx") and not out:
        raise click.UsageError(f"--format {fmt} needs --out FILE.{fmt}")
    report = reports.run(which, ledger, day, actor)
    if fmt in ("csv", "xlsx"):
        assert out is not None
        path = Path(out).with_suffix(f".{fmt}")
        write_table(path, report.header, report.rows)
        click.echo(f"{path}: {len(report.rows)} row(s)")
        return
    text = (
        json.dumps(report.to_json(), ensure_ascii=False, indent=2)
        if fmt == "json"
        else f"{report.title}（截至 {report.as_of}）\n{format_table(report.header, report.rows)}"
    )
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(out)
    else:
        click.echo(text)
