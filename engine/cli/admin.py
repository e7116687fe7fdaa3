"""Admin commands: ``migrate`` (running cases to another version, engine/migration.py) and
``case correct|cancel|reopen|reassign`` (engine/admin_ops.py). Each acts as ``--as admin`` by
default and records ``--actor`` and ``--reason`` in the history."""

from __future__ import annotations

import json

import click

from engine.cli.base import actor_options, configured_engine, echo_json
from engine.handlers import Actor
from engine.migration_plan import CasePlan, MigrationReport

__all__ = ["case_cancel", "case_correct", "case_reassign", "case_reopen", "migrate"]


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{value!r} is not OLD=NEW", param_hint="--map")
        mapping[old] = new
    return mapping


def _plan_lines(plan: CasePlan) -> list[str]:
    dest = plan.to_state or "?"
    head = (
        f"case {plan.case_id}: v{plan.from_version} {plan.from_state} -> v{plan.to_version} {dest}"
    )
    lines = [head + (" REFUSED" if plan.refused else "")]
    lines += [f"    refused: {reason}" for reason in plan.reasons]
    lines += [f"    data {e.json_path}: {e.message}" for e in plan.data_errors]
    for t in plan.timers:
        kind = "deadline" if t.deadline else "timer"
        due = t.new_due_at.isoformat() if t.new_due_at else "-"
        was = t.due_at.isoformat() if t.due_at else "-"
        paused = " (paused)" if t.paused else ""
        lines.append(f"    {kind} {t.name}: {t.change}{paused}, due {was} -> {due}")
    return lines


def _show(report: MigrationReport) -> None:
    for plan in report.cases:
        click.echo("\n".join(_plan_lines(plan)))
    what = "would move" if report.dry_run else "moved"
    count = len(report.cases) - len(report.refused) if report.dry_run else len(report.migrated)
    click.echo(
        f"{report.workflow}: {what} {count} case(s) to v{report.to_version}, "
        f"{len(report.refused)} refused"
    )


@click.command()
@click.argument("workflow")
@click.option("--to", "to_version", type=int, required=True, help="the version to move to")
@click.option("--from", "from_version", type=int, default=None, help="only cases on it")
@click.option("--map", "maps", multiple=True, metavar="OLD=NEW", help="state OLD becomes NEW")
@click.option("--case", "case_ids", type=int, multiple=True, help="only this case (repeatable)")
@click.option("--dry-run", is_flag=True, help="show the plan, change nothing")
@click.option("--reason", default=None, help="why (recorded in each case's history)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@actor_options
def migrate(
    workflow: str,
    to_version: int,
    from_version: int | None,
    maps: tuple[str, ...],
    case_ids: tuple[int, ...],
    dry_run: bool,
    reason: str | None,
    as_json: bool,
    actor: Actor,
) -> None:
    """Migrate running cases of WORKFLOW to version --to (admin). Each case maps to its own
    state or --map's; deadlines keep their start and pause; changed timers are re-armed from
    when the state was entered. If any case cannot move (a state the version lacks, data its
    schema refuses), none moves and each is listed (exit status 6)."""
    report = configured_engine().migrate(
        workflow,
        to_version,
        actor,
        from_version=from_version,
        mapping=_pairs(maps),
        case_ids=list(case_ids) or None,
        dry_run=dry_run,
        reason=reason,
    )
    if as_json:
        echo_json(report.to_json())
    else:
        _show(report)


_REASON = click.option("--reason", required=True, help="why (recorded in the history)")
_IF_VERSION = click.option(
    "--if-version", type=int, default=None, help="refuse unless the case is at it"
)


@click.command("correct")
@click.argument("case_id", type=int)
@click.argument("field")
@click.argument("value")
@_REASON
@_IF_VERSION
@actor_options
def case_correct(
    case_id: int, field: str, value: str, reason: str, if_version: int | None, actor: Actor
) -> None:
    """Set data FIELD of a case to VALUE (JSON; a bare word is a string), with a reason."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    view = configured_engine().correct(case_id, field, parsed, actor, reason, if_version)
    echo_json(view.to_json())


@click.command("cancel")
@click.argument("case_id", type=int)
@_REASON
@_IF_VERSION
@actor_options
def case_cancel(case_id: int, reason: str, if_version: int | None, actor: Actor) -> None:
    """Cancel an open case where it stands (its timers cancelled); it can be reopened."""
    echo_json(configured_engine().cancel(case_id, actor, reason, if_version).to_json())


@click.command("reopen")
@click.argument("case_id", type=int)
@click.argument("state")
@_REASON
@_IF_VERSION
@actor_options
def case_reopen(
    case_id: int, state: str, reason: str, if_version: int | None, actor: Actor
) -> None:
    """Reopen a cancelled or closed case in STATE (not final), its timers armed."""
    echo_json(configured_engine().reopen(case_id, state, actor, reason, if_version).to_json())


@click.command("reassign")
@click.argument("case_id", type=int)
@click.argument("target", metavar="JURISDICTION")
@_REASON
@_IF_VERSION
@actor_options
def case_reassign(
    case_id: int, target: str, reason: str, if_version: int | None, actor: Actor
) -> None:
    """Move a case to JURISDICTION (its jurisdiction field and column together). (--jurisdiction
    is the actor's, as for every command.)"""
    engine = configured_engine()
    echo_json(engine.reassign(case_id, target, actor, reason, if_version).to_json())
