"""``qingliu diagram NAME [--version V] [--case ID] [--format svg|mermaid|dot] [-o FILE]``: a
workflow's state diagram, or a case's with its state and path marked (docs/diagrams.md)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import actor_options, configured_engine
from engine.diagram import FORMATS, Format, case_graph, render, workflow_graph
from engine.handlers import Actor

__all__ = ["diagram"]


@click.command()
@click.argument("workflow", metavar="NAME")
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    default=None,
    help="the definition version (default: the latest)",
)
@click.option(
    "--case",
    "case_id",
    type=click.IntRange(min=1),
    default=None,
    help="draw this case of NAME: its current state and the path it took",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="svg", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="write to this file (default: stdout)",
)
@actor_options
def diagram(
    workflow: str,
    version: int | None,
    case_id: int | None,
    fmt: Format,
    output: str | None,
    actor: Actor,
) -> None:
    """Draw workflow NAME as a state diagram (SVG, Mermaid or dot)."""
    engine = configured_engine()
    if case_id is None:
        row, definition = engine.definition(workflow, version)
        graph = workflow_graph(definition, row.version)
    else:
        if version is not None:
            raise click.BadParameter("a case is drawn on its own version", param_hint="--version")
        definition, case, events = engine.case_path(case_id, actor)
        if case.workflow != workflow:
            raise click.BadParameter(
                f"case {case_id} is a case of {case.workflow}, not of {workflow}",
                param_hint="--case",
            )
        graph = case_graph(definition, case, events)
    text = render(graph, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)
