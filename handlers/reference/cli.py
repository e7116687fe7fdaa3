"""``qingliu config check``: validate config/reference/*.yaml and the roles workflows name."""

from __future__ import annotations

from pathlib import Path

import click

from engine.catalog import Catalog
from engine.domain import load_domain
from engine.errors import ConfigError
from engine.settings import load_settings
from handlers.reference.check import check_reference, located
from handlers.reference.data import role_codes

__all__ = ["config_group"]

BUILT_IN_ROLES = ("admin", "system")


def workflow_role_problems(workflows: Path, known: set[str]) -> list[str]:
    """Roles named by workflow files but missing from roles.yaml."""
    if not workflows.exists():
        return []
    catalog = Catalog(load_domain(load_settings().handlers).registry)
    definitions, _ = catalog.check_files([workflows])
    problems: list[str] = []
    for d in definitions:
        named = set(d.roles) | {r for t in d.transitions for r in t.roles}
        for role in sorted(named - known - set(BUILT_IN_ROLES)):
            problems.append(f"roles.yaml: workflow {d.name!r} names role {role!r}, not listed")
    return problems


@click.group("config")
def config_group() -> None:
    """Reference data in config/reference/ (jurisdictions, departments, outfall types ...)."""


@config_group.command("check")
@click.option(
    "--workflows",
    "workflows",
    type=click.Path(),
    default=None,
    help="also check the roles these workflow files name (default: the configured folder)",
)
def check(workflows: str | None) -> None:
    """One line per problem (path:line:col: key: message); exit status 9 when there is any."""
    settings = load_settings()
    problems = located(check_reference(settings.reference), settings.config_dir / "reference")
    if not problems:
        folder = Path(workflows or settings.workflows)
        problems = workflow_role_problems(folder, set(role_codes(settings.reference)))
    for problem in problems:
        click.echo(problem)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in {settings.config_dir / 'reference'}")
    files = ", ".join(f"{name}.yaml" for name in sorted(settings.reference))
    click.echo(f"ok: {files}")
