"""Definitions and cases from the command line: ``validate``, ``load``, ``workflows``,
``case create|attach|fire|show|list|history``, ``replay``, ``audit verify|checkpoint``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from engine import audit as history_audit
from engine.catalog import Catalog, Published
from engine.cli.base import actor_options, configured_engine, echo_json, json_arg
from engine.domain import load_domain
from engine.handlers import Actor
from engine.settings import load_settings
from engine.views import event_json

__all__ = ["audit", "case", "list_workflows", "load", "published_line", "replay", "validate"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: Iterable[str]) -> None:
    """Check definition files or folders; one `path:line:col: message` line per problem, on
    stderr (the ok line goes to stdout)."""
    catalog = Catalog(load_domain(load_settings().handlers).registry)
    definitions, problems = catalog.check_files(paths)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(definitions)} definition(s)")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--force",
    is_flag=True,
    help="publish a changed file even over a version published through the API after it",
)
def load(paths: Iterable[str], force: bool) -> None:
    """Import definitions (default: the configured workflows folder). The database holds the
    versions: a file becomes a new version only if its text is not one already and no version
    was published through the API since it was imported (skipped, with a warning). All or
    nothing."""
    engine = configured_engine()
    for published in engine.load(paths or [load_settings().workflows], force=force):
        click.echo(published_line(published))


def published_line(published: Published) -> str:
    """``name vN (new version|unchanged|skipped: why)`` for ``load`` and ``serve``."""
    if published.created:
        status = "new version"
    elif published.warning and published.warning.startswith("skipped:"):
        status = published.warning
    else:
        status = "unchanged" + (f": {published.warning}" if published.warning else "")
    return f"{published.name} v{published.version} ({status})"


@click.command("workflows")
def list_workflows() -> None:
    """List published workflows (latest versions)."""
    for row in configured_engine().definitions():
        click.echo(f"{row.name}\tv{row.version}\t{row.title}")


@click.group()
def case() -> None:
    """Create, advance and read cases."""


@case.command("create")
@click.argument("workflow")
@click.option("--data", default="{}", help="case data as a JSON object")
@click.option("--subject", default=None, help="what the case is about (business key)")
@actor_options
def case_create(workflow: str, data: str, subject: str | None, actor: Actor) -> None:
    view = configured_engine().create_case(
        workflow, json_arg(data, "--data"), actor, subject=subject
    )
    echo_json(view.to_json())


@case.command("attach")
@click.argument("workflow")
@click.argument("field")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--case", "case_id", type=int, default=None, help="upload to this case")
@actor_options
def case_attach(workflow: str, field: str, file: str, case_id: int | None, actor: Actor) -> None:
    """Upload FILE for attachment FIELD (dotted: evidence.photos) of WORKFLOW, to case --case
    or for a case the same actor opens next; prints the attachment value to put in the data or
    the payload (docs/attachments.md)."""
    data = Path(file).read_bytes()
    engine = configured_engine()
    echo_json(
        engine.attachments.upload(
            data, Path(file).name, actor, workflow=workflow, field=field, case_id=case_id
        )
    )


@case.command("fire")
@click.argument("case_id", type=int)
@click.argument("trigger")
@click.option("--payload", default="{}", help="payload as a JSON object")
@click.option("--if-version", type=int, default=None, help="refuse unless the case is at it")
@actor_options
def case_fire(
    case_id: int, trigger: str, payload: str, if_version: int | None, actor: Actor
) -> None:
    engine = configured_engine()
    engine.fire(case_id, trigger, actor, json_arg(payload, "--payload"), if_version)
    echo_json(engine.get_case(case_id, actor).to_json())


@case.command("show")
@click.argument("case_id", type=int)
@actor_options
def case_show(case_id: int, actor: Actor) -> None:
    echo_json(configured_engine().get_case(case_id, actor).to_json())


@case.command("list")
@click.option("--workflow", default=None)
@click.option("--state", default=None)
@click.option("--subject", default=None)
@click.option("--limit", type=int, default=100, show_default=True)
@actor_options
def case_list(
    workflow: str | None, state: str | None, subject: str | None, limit: int, actor: Actor
) -> None:
    views = configured_engine().list_cases(
        actor, workflow=workflow, state=state, subject=subject, limit=limit
    )
    for v in views:
        click.echo(f"{v.id}\t{v.case.workflow}\t{v.state}\t{v.state_title}\t{v.case.subject or ''}")


@case.command("history")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print the events as JSON")
@actor_options
def case_history(case_id: int, as_json: bool, actor: Actor) -> None:
    events = configured_engine().history(case_id, actor)
    if as_json:
        echo_json([event_json(e) for e in events])
        return
    for e in events:
        move = f"{e.from_state or '-'} -> {e.to_state or '-'}"
        click.echo(
            f"{e.seq:>3} {e.at.isoformat(timespec='seconds')} {e.kind:<10} "
            f"{e.trigger or '':<20} {move:<32} {e.actor} ({e.role})"
        )


@click.command()
@click.argument("case_ids", nargs=-1, type=int)
def replay(case_ids: tuple[int, ...]) -> None:
    """Replay cases (default: all) from their history and compare with their stored state."""
    engine = configured_engine()
    with engine.store.read() as tx:
        ids = list(case_ids) or tx.case_ids()
    mismatches = 0
    for case_id in ids:
        row, result = engine.replay(case_id)
        if not result.matches(row):
            mismatches += 1
            why = "; ".join(result.problems) or f"replayed {result.state} v{result.version}"
            click.echo(f"case {case_id}: MISMATCH: {why} (stored {row.state} v{row.version})")
    click.echo(f"replayed {len(ids)} case(s), {mismatches} mismatch(es)")
    sys.exit(1 if mismatches else 0)


@click.group()
def audit() -> None:
    """Evidence-grade history checks."""


@audit.command("verify")
@click.option(
    "--since",
    "since_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="a checkpoint file (`qingliu audit checkpoint --out`): prove nothing at or before it "
    "changed",
)
def audit_verify(since_file: str | None) -> None:
    """Check the history: every case's chain, the keyed global chain over all cases and the
    ledger, and its head; name each damage found (exit status 1)."""
    since = _read_checkpoint(since_file) if since_file else None
    engine = configured_engine()
    blobs = engine.attachments.blobs
    report = history_audit.verify_store(engine.store, engine.keys, since, blobs)
    if report.problems:
        raise history_audit.AuditFailed(report.problems)
    legacy = ""
    if report.legacy:
        sealed = "by its first row" if report.head else "by its first row when one is written"
        legacy = f"; {report.legacy} event(s) from before it, sealed {sealed}"
    anchored = f"; checkpoint of {since.at.isoformat()} holds" if since else ""
    click.echo(
        f"audit: every chain verified ({report.cases} case(s); keyed global chain of "
        f"{report.head} row(s){legacy}{anchored})"
    )


@audit.command("checkpoint")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="also write the checkpoint to this file (keep it away from the database)",
)
def audit_checkpoint(out_file: str | None) -> None:
    """Verify the history, then print its head (global number, hash, time) signed with the key:
    the anchor `audit verify --since` proves the history against."""
    engine = configured_engine()
    mark = history_audit.checkpoint(engine.store, engine.keys, engine.clock.now)
    text = json.dumps(mark.to_json(), ensure_ascii=False, indent=2)
    if out_file:
        Path(out_file).write_text(text + "\n", encoding="utf-8")
    click.echo(text)


def _read_checkpoint(path: str) -> history_audit.Checkpoint:
    try:
        return history_audit.Checkpoint.from_json(json.loads(Path(path).read_text("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise click.BadParameter(f"{path}: {exc}", param_hint="--since") from exc
