"""``qingliu sample verify CASE_ID`` / ``--file PUBLICATION.json``: re-check a revealed draw."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engine.handlers import Actor
from engine.settings import build_engine, load_settings
from handlers.sampling.commit import verify_draw

__all__ = ["sample_group"]


def _describe(targets: list[dict[str, Any]]) -> list[str]:
    return [
        f"  {t['outfall_code']}\t{t.get('sub_type') or ''}\t{', '.join(t['inspectors'])}"
        for t in targets
    ]


def _from_case(case_id: int, role: str, jurisdiction: str | None) -> dict[str, Any]:
    engine = build_engine(load_settings())
    view = engine.get_case(case_id, Actor("cli:sample", role, jurisdiction))
    record = view.data.get("spot_check")
    draw = view.data.get("draw")
    if not isinstance(record, dict) and isinstance(draw, dict):
        return draw  # a monitoring plan's draw: its secret is in it once the plan is approved
    if not isinstance(record, dict):
        raise click.ClickException(f"case {case_id} has no recorded spot-check draw")
    publication = view.data.get("publication")
    if isinstance(publication, dict):
        return publication
    # drawn, not yet revealed: what is public so far (the secret is missing)
    return {**record, "targets": view.data.get("spot_check_targets")}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: cannot read a JSON publication ({exc})") from exc
    if not isinstance(loaded, dict):
        raise click.ClickException(f"{path}: a publication is a JSON object")
    return loaded


@click.group("sample")
def sample_group() -> None:
    """The 双随机 draws (effectiveness_check cases, monitoring_plan cases)."""


@sample_group.command("verify")
@click.argument("case_id", type=int, required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="a published record (a case's data.publication as JSON) instead of a case",
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--as", "role", default="admin", show_default=True, help="role to act as")
@click.option("--jurisdiction", default=None, help="jurisdiction code of the actor")
def verify_command(
    case_id: int | None, file: Path | None, as_json: bool, role: str, jurisdiction: str | None
) -> None:
    """Re-check the draw of CASE_ID (or of a published record): the revealed secret and the
    pool match the commitment made when it was drawn, and the targets are the ones the secret
    draws. Exit 0 when it verifies, 1 when it does not or is not revealed yet."""
    if (case_id is None) == (file is None):
        raise click.UsageError("give a CASE_ID or --file, not both")
    record = (
        _from_file(file) if file is not None else _from_case(int(case_id or 0), role, jurisdiction)
    )
    what = f"case {case_id}" if file is None else str(file)
    checked = verify_draw(record)
    if as_json:
        out = {
            "source": what,
            "ok": checked.ok,
            "problems": checked.problems,
            "targets": checked.targets,
            "recorded_targets": record.get("targets"),
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif checked.ok:
        pool = len(record.get("pool") or [])
        click.echo(
            f"{what}: the draw verifies (pool {pool}, {len(checked.targets or [])} target(s))"
        )
        click.echo("\n".join(_describe(checked.targets or [])))
    else:
        click.echo(f"{what}: the draw does NOT verify")
        click.echo("\n".join(f"  {p}" for p in checked.problems))
    sys.exit(0 if checked.ok else 1)
