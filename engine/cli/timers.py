"""Time from the command line: ``tick``, ``scheduler``, ``calendar check|recompute`` and
``case timers ID``."""

from __future__ import annotations

import logging
import logging.config
import signal

import click

from engine.api.logs import configured_format, log_config
from engine.cli.base import actor_options, configured_engine, echo_json
from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import load_settings
from engine.time.recompute import recompute_provisional
from engine.time.scheduler import DEFAULT_INTERVAL, job_options, run_scheduler
from engine.time.sweep import BehindHistory, SweepResult, check_not_behind, sweep

__all__ = ["calendar_group", "case_timers", "scheduler", "tick"]


def _engine_at(now: str | None) -> Engine:
    """The configured engine; with ``--now`` its clock stands still at that moment."""
    engine = configured_engine()
    if now is not None:
        try:
            moment = engine.planner.parse_moment(now)
        except ValueError as exc:
            raise click.BadParameter(
                f"{now!r} is not an ISO date or datetime (e.g. 2025-01-02T09:00+08:00)",
                param_hint="--now",
            ) from exc
        engine.clock = FakeClock(moment)
    return engine


def _print_sweep(result: SweepResult) -> None:
    for recomputed in result.recomputed:
        click.echo(
            f"recomputed: case {recomputed.case_id} timer {recomputed.timer_id} "
            f"{recomputed.name}: {recomputed.old_due_at.isoformat()} -> "
            f"{recomputed.due_at.isoformat()}"
        )
    for firing in result.firings:
        click.echo(str(firing))
    click.echo(
        f"tick at {result.now.isoformat()}: {result.count('fired')} fired, "
        f"{result.count('skipped')} skipped, {result.count('retry')} left for the next sweep"
    )


@click.command()
@click.option("--now", default=None, help="sweep as if it were this ISO datetime (local if naive)")
@click.option("--limit", type=int, default=10_000, show_default=True, help="most timers to fire")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option(
    "--force", is_flag=True, help="sweep at --now even if it is before the last history row"
)
def tick(now: str | None, limit: int, as_json: bool, force: bool) -> None:
    """Fire every due timer once (for cron, operators and tests). A --now before the last
    history row is refused (the history would run backwards) unless --force."""
    engine = _engine_at(now)
    if now is not None:
        try:
            check_not_behind(engine, engine.clock.now())
        except BehindHistory as exc:
            if not force:
                raise
            click.echo(
                f"warning: --force: {exc.moment.isoformat()} is before the last "
                f"history row ({exc.last.isoformat()}); the history will run "
                "backwards",
                err=True,
            )
    result = sweep(engine, limit=limit)
    if as_json:
        echo_json(result.to_json())
    else:
        _print_sweep(result)


@click.command()
@click.option("--interval", type=int, default=DEFAULT_INTERVAL, show_default=True, help="seconds")
def scheduler(interval: int) -> None:
    """Sweep due timers every --interval seconds until interrupted (APScheduler)."""
    try:
        options = job_options(interval)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from exc
    if configured_format(load_settings().log_format) == "json":  # docs/operations.md
        logging.config.dictConfig(log_config("json", level="WARNING"))
    else:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("engine.time").setLevel(logging.INFO)
    click.echo(
        f"sweeping every {interval}s (coalesce={options['coalesce']}, "
        f"max_instances={options['max_instances']}, "
        f"misfire_grace_time={options['misfire_grace_time']}s); Ctrl-C stops",
        err=True,
    )
    engine = configured_engine()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill`, systemd and docker stop
    run_scheduler(engine, interval, on_result=_print_sweep_if_any)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _print_sweep_if_any(result: SweepResult) -> None:
    if result.firings or result.recomputed:
        _print_sweep(result)


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: covered years and provisional due times."""


@calendar_group.command("check")
@click.option("--json", "as_json", is_flag=True)
def calendar_check(as_json: bool) -> None:
    """List the years the calendar covers and every provisional timer."""
    engine = configured_engine()
    calendar = engine.planner.calendar
    with engine.store.read() as tx:
        provisional = tx.provisional_timers()
    years = calendar.covered_years()
    if as_json:
        echo_json(
            {
                "time_zone": calendar.tz_name,
                "covered_years": years,
                "provisional_timers": [
                    {
                        "timer": t.id,
                        "case": t.case_id,
                        "name": t.name,
                        "status": t.status,
                        "due_at": t.due_at.isoformat(),
                    }
                    for t in provisional
                ],
            }
        )
        return
    click.echo(f"time zone: {calendar.tz_name}")
    click.echo(f"covered years: {_ranges(years)}")
    click.echo(f"provisional timers: {len(provisional)}")
    for t in provisional:
        click.echo(
            f"  case {t.case_id} timer {t.id} {t.name} {t.status} due {t.due_at.isoformat()}"
        )


def _ranges(years: list[int]) -> str:
    parts: list[str] = []
    for year in years:
        if parts and parts[-1].split("-")[-1] == str(year - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{year}"
        else:
            parts.append(str(year))
    return ", ".join(parts) or "none"


@calendar_group.command("recompute")
def calendar_recompute() -> None:
    """Recount provisional due times whose years the calendar now covers."""
    done = recompute_provisional(configured_engine())
    for r in done:
        click.echo(
            f"case {r.case_id} timer {r.timer_id} {r.name}: "
            f"{r.old_due_at.isoformat()} -> {r.due_at.isoformat()}"
        )
    click.echo(f"recomputed {len(done)} timer(s)")


@click.command("timers")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@actor_options
def case_timers(case_id: int, as_json: bool, actor: Actor) -> None:
    """Pending timers and deadlines of a case, and when its state's timers would fall now."""
    view = configured_engine().timers_preview(case_id, actor)
    if as_json:
        echo_json(view.to_json())
        return
    click.echo(f"case {view.case_id} in {view.state} at {view.now.isoformat()}")
    click.echo("pending:")
    for t in view.live:
        left = (
            f"{t['remaining_working_days']} working day(s) left"
            if t.get("remaining_working_days") is not None
            else f"{t['remaining_seconds']}s left"
        )
        mark = " provisional" if t["provisional"] else ""
        # a paused deadline has no due time: only the time left, counted again on resuming
        when = f"due {t['due_at']} ({left})" if t["due_at"] is not None else f"({left})"
        click.echo(f"  {t['name']:<24} {t['trigger']:<16} {t['status']:<8} {when}{mark}")
    click.echo("if armed now:")
    for item in view.if_armed_now:
        due = item.due_at.isoformat() if item.due_at else "(no date in the case data)"
        mark = " provisional" if item.provisional else ""
        click.echo(f"  {item.name:<24} {item.trigger:<16} {item.kind:<8} due {due}{mark}")
