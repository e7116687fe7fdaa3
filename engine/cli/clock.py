"""``qingliu time``: show, set or clear the installation's logical clock
(``engine.time.logical``)."""

from __future__ import annotations

from datetime import date, datetime, time

import click

from engine.cli.base import actor_options, configured_engine
from engine.handlers import Actor
from engine.runtime import Engine
from engine.time.logical import clear_logical_time, logical_time, set_logical_time

__all__ = ["time_group"]

OFFICE_HOURS = time(9, 0)  # a bare date is 09:00 local time that day


@click.group("time", invoke_without_command=True)
@click.pass_context
def time_group(ctx: click.Context) -> None:
    """The installation's clock: the logical time when one is set (the demo sets its
    simulated date), else the system clock. Server, scheduler and reports use it."""
    if ctx.invoked_subcommand is None:
        _show(configured_engine())


def _show(engine: Engine) -> None:
    moment = logical_time(engine.store)
    zone = engine.planner.calendar.tz
    if moment is None:
        now = engine.clock.now()
        click.echo(
            f"系统时钟（未设置逻辑时钟）：{now.astimezone(zone):%Y-%m-%d %H:%M} 当地时间 "
            f"= {now.isoformat()}"
        )
        return
    click.echo(
        f"逻辑时钟：{moment.astimezone(zone):%Y-%m-%d %H:%M} 当地时间 = {moment.isoformat()}"
        "（时间静止于此；qingliu time clear 恢复系统时钟）"
    )


@time_group.command("set")
@click.argument("moment")
@actor_options
def time_set(moment: str, actor: Actor) -> None:
    """Keep MOMENT (YYYY-MM-DD, 09:00 local that day; or an ISO datetime, local if naive)
    as the installation's time."""
    engine = configured_engine()
    zone = engine.planner.calendar.tz
    try:
        if len(moment) == 10:
            parsed = datetime.combine(date.fromisoformat(moment), OFFICE_HOURS, zone)
        else:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    except ValueError as exc:
        raise click.BadParameter(
            f"{moment!r} is not an ISO date or datetime (e.g. 2025-03-31 or 2025-03-31T09:00)",
            param_hint="MOMENT",
        ) from exc
    set_logical_time(engine, parsed, actor)
    _show(engine)


@time_group.command("clear")
@actor_options
def time_clear(actor: Actor) -> None:
    """Go back to the system clock."""
    engine = configured_engine()
    clear_logical_time(engine, actor)
    _show(engine)
