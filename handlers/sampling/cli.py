"""``qingliu sample redraw CASE_ID``: repeat a recorded spot-check draw and compare."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from engine.handlers import Actor
from engine.settings import build_engine, load_settings
from handlers.sampling.draw import SamplingError, redraw

__all__ = ["sample_group"]


def _describe(targets: list[dict[str, Any]]) -> list[str]:
    return [
        f"  {t['outfall_code']}\t{t.get('sub_type') or ''}\t{', '.join(t['inspectors'])}"
        for t in targets
    ]


@click.group("sample")
def sample_group() -> None:
    """The 双随机 spot-check draw (effectiveness_check cases)."""


@sample_group.command("redraw")
@click.argument("case_id", type=int)
@click.option("--seed", type=int, default=None, help="another seed (default: the recorded one)")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--as", "role", default="admin", show_default=True, help="role to act as")
@click.option("--jurisdiction", default=None, help="jurisdiction code of the actor")
def redraw_command(
    case_id: int, seed: int | None, as_json: bool, role: str, jurisdiction: str | None
) -> None:
    """Re-draw the sample of CASE_ID from its recorded seed and pool snapshot; exit 0 when it
    matches the recorded sample, 1 when it does not."""
    engine = build_engine(load_settings())
    view = engine.get_case(case_id, Actor("cli:sample", role, jurisdiction))
    record = view.data.get("spot_check")
    if not isinstance(record, dict) or "targets" not in record:
        raise click.ClickException(f"case {case_id} has no recorded spot-check draw")
    try:
        targets = redraw(record, seed)
    except SamplingError as exc:
        raise click.ClickException(f"case {case_id}: {exc}") from exc
    matches = targets == record["targets"]
    used = record["seed"] if seed is None else seed
    if as_json:
        out = {
            "case_id": case_id,
            "seed": used,
            "recorded_seed": record["seed"],
            "matches": matches,
            "targets": targets,
            "recorded_targets": record["targets"],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"case {case_id}: seed {used} (recorded {record['seed']}), pool "
            f"{len(record['pool'])}, ratio {record['ratio']}, {len(targets)} target(s)"
        )
        click.echo("\n".join(_describe(targets)))
        click.echo("matches the recorded sample" if matches else "DIFFERS from the recorded sample")
    sys.exit(0 if matches else 1)
