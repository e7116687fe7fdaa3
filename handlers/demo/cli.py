"""``qingliu demo``: load the demo city into the configured database."""

from __future__ import annotations

import click

from handlers.demo.city import END, START, load_demo

__all__ = ["demo_command"]


@click.command("demo")
def demo_command() -> None:
    """Load a realistic Liaocheng (dozens of outfalls in all 11 county-level units, cases in
    every stage, late counties under escalation) into the configured database. Idempotent."""
    result = load_demo()
    if not result.created:
        click.echo(f"demo city already loaded ({result.outfalls} outfalls); nothing changed")
        return
    click.echo(
        f"demo city loaded: {result.outfalls} outfalls, {result.steps} steps, "
        f"{result.timers_fired} timer firings, simulated from {START.date()} to {END.date()}"
    )
    for workflow, state, count in result.cases:
        click.echo(f"  {workflow:<16} {state:<20} {count:>4}")
    for line in result.refused:
        click.echo(f"  refused: {line}", err=True)
    click.echo("try: qingliu ledger list | qingliu report progress | qingliu report overdue")
