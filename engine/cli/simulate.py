"""``qingliu simulate WORKFLOW SCENARIO``: run a scenario in a throw-away database
(``engine.simulate``); the configured database is never opened."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import echo_json
from engine.domain import load_domain
from engine.settings import calendar_of, load_settings, scope_of
from engine.simulate import Sandbox, ScenarioFailed, report_lines, simulate_files

__all__ = ["simulate"]


@click.command()
@click.argument("workflow")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the trace and result as JSON")
def simulate(workflow: str, scenario: Path, as_json: bool) -> None:
    """Run SCENARIO (docs/simulator.md) against WORKFLOW: a workflow name of the configured
    folder, or the path of a definition file (an unpublished draft). Prints the trace; exits
    1 naming each failed expectation's file:line:col."""
    settings = load_settings()
    domain = load_domain(settings.handlers)
    calendar = calendar_of(settings)
    parts = Sandbox(domain.registry, calendar, scope_of(settings), settings.reference)
    parsed, result = simulate_files(parts, workflow, scenario, Path(settings.workflows))
    if as_json:
        echo_json(result.to_json(calendar.tz))
    else:
        for line in report_lines(parsed, result, calendar.tz):
            click.echo(line)
    if not result.passed:
        raise ScenarioFailed(str(scenario), [str(f) for f in result.failures])
