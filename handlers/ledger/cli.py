"""Commands: ``qingliu ledger import|export|list|show|history|add`` and ``qingliu outfall card``.
Thin: parse, call the ledger, print."""

from __future__ import annotations

import json
from typing import Any

import click

from engine.cli.base import actor_options
from engine.handlers import Actor
from engine.settings import Settings, build_engine, load_settings
from handlers.ledger import io as ledger_io
from handlers.ledger.fields import format_limits
from handlers.ledger.idcard import write_card
from handlers.ledger.progress import import_bar
from handlers.ledger.record import LIST_FILTERS
from handlers.ledger.service import Ledger, change_json
from handlers.ledger.tabular import format_table, table_format
from handlers.titles import Titles

__all__ = ["commands", "ledger_group", "open_ledger", "outfall_group"]


def open_ledger(settings: Settings | None = None) -> Ledger:
    """The ledger on the configured database, closed when the command ends."""
    engine = build_engine(settings or load_settings())
    click.get_current_context().call_on_close(engine.store.dispose)
    return Ledger(engine)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def filter_options(fn: Any) -> Any:
    for name in reversed(LIST_FILTERS):
        flag = "--" + name.replace("_", "-")
        fn = click.option(flag, name, default=None, help=f"only outfalls with this {name}")(fn)
    return fn


@click.group("ledger")
def ledger_group() -> None:
    """The outfall ledger (动态管理台账): import, export, list, show, history, add."""


@ledger_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--partial", is_flag=True, help="keep the good rows when some rows are bad")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar on the terminal")
@actor_options
def ledger_import(file: str, partial: bool, quiet: bool, actor: Actor) -> None:
    """Import a .csv or .xlsx file. All or nothing unless --partial; every bad row is printed
    as FILE:LINE: COLUMN: MESSAGE (exit status 7). A progress bar on stderr when it is a
    terminal (not with --quiet)."""
    ledger = open_ledger()
    with import_bar(quiet) as progress:
        result = ledger_io.import_file(ledger, file, actor, partial=partial, progress=progress)
    click.echo(f"{file}: {result.rows} row(s): {result.added} added, {result.updated} updated")


@ledger_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@filter_options
@actor_options
def ledger_export(file: str, actor: Actor, **filters: str | None) -> None:
    """Write the ledger (or the filtered part) to FILE.csv or FILE.xlsx."""
    table_format(file)
    count = ledger_io.export_file(open_ledger(), file, actor, **filters)
    click.echo(f"{file}: {count} outfall(s)")


@ledger_group.command("list")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="print JSON records")
@click.option("--limit", type=int, default=None, help="at most this many")
@actor_options
def ledger_list(as_json: bool, limit: int | None, actor: Actor, **filters: str | None) -> None:
    """List outfalls in code order."""
    ledger = open_ledger()
    views = ledger.list(actor, limit=limit, **filters)
    if as_json:
        _echo_json([v.record for v in views])
        return
    writer = ledger_io.CellWriter(ledger.reference)
    wanted = ("code", "name", "sub_type", "county", "river", "status", "rectification_status")
    index = [ledger_io.FIELD_INDEX[f] for f in wanted]
    rows = [[writer.row(v.record)[i] for i in index] for v in views]
    click.echo(format_table([ledger_io.HEADER_OF[f] for f in wanted], rows))
    click.echo(f"{len(views)} outfall(s)", err=True)


@ledger_group.command("show")
@click.argument("code")
@actor_options
def ledger_show(code: str, actor: Actor) -> None:
    """One outfall as JSON, with links to every case about it, and under ``names`` the
    Chinese names of its coded fields (county, sub-type, river, status ...)."""
    ledger = open_ledger()
    view = ledger.get(code, actor)
    shown = view.to_json(ledger.state_titles())
    labels = ledger_io.CellWriter(ledger.reference).names
    shown["names"] = {
        name: labels[name].get(value, value)
        for name, value in view.record.items()
        if name in labels and isinstance(value, str)
    }
    if isinstance(view.record.get("limits"), dict):
        shown["names"]["limits"] = format_limits(view.record["limits"])
    titles = Titles(ledger.engine)
    for case in shown.get("cases", []):
        case["workflow_title"] = titles.workflow(str(case["workflow"]))
    _echo_json(shown)


@ledger_group.command("history")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="print the changes as JSON")
@actor_options
def ledger_history(code: str, as_json: bool, actor: Actor) -> None:
    """Every change to one outfall's record: who, when and what, oldest first."""
    ledger = open_ledger()
    changes = ledger.history(code, actor)
    if as_json:
        _echo_json([change_json(c) for c in changes])
        return
    roles = ledger.engine.roles  # people read the role's title (roles.yaml), not its code
    for c in changes:
        fields = sorted([*c.patch.get("set", {}), *c.patch.get("unset", [])])
        click.echo(
            f"{c.seq:>3} {c.at.isoformat(timespec='seconds')} {c.change:<8} "
            f"{c.actor}（{roles.title(c.role)}）: {', '.join(fields)}"
        )


@ledger_group.command("add")
@click.argument("record")
@actor_options
def ledger_add(record: str, actor: Actor) -> None:
    """Add one outfall given as a JSON object (starts its responsibility case)."""
    try:
        value = json.loads(record)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="RECORD") from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="RECORD")
    ledger = open_ledger()
    _echo_json(ledger.add(value, actor).to_json(ledger.state_titles()))


@click.group("outfall")
def outfall_group() -> None:
    """One outfall's ID card (身份证式管理)."""


@outfall_group.command("card")
@click.argument("code")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False))
@actor_options
def outfall_card(code: str, out_dir: str, actor: Actor) -> None:
    """Write CODE.png and CODE.svg (QR code of the outfall's public page,
    <public_base_url>/o/CODE) and CODE.html (the one-page record with its history) into
    --out."""
    settings = load_settings()
    ledger = open_ledger(settings)
    paths = write_card(ledger, code, out_dir, settings.public_base_url, actor)
    for path in paths.values():
        click.echo(str(path))


def commands() -> list[click.Command]:
    return [ledger_group, outfall_group]
