"""``qingliu demo``: load the demo city into the configured database."""

from __future__ import annotations

import click

from engine.settings import build_engine, load_settings
from handlers.demo.city import END, START, load_demo
from handlers.demo.users import create_demo_users
from handlers.ledger.tabular import format_table
from handlers.titles import Titles

__all__ = ["demo_command"]


@click.command("demo")
def demo_command() -> None:
    """Load a realistic Liaocheng (dozens of outfalls in all 11 county-level units, cases of
    all eight workflows in every stage, late counties under escalation) into the configured
    database and leave the installation's clock at the simulated date. Idempotent."""
    result = load_demo()
    _users()
    if not result.created:
        click.echo(f"示范城市已载入（排污口 {result.outfalls} 个），未作改动")
        return
    click.echo(
        f"示范城市已载入：排污口 {result.outfalls} 个，{result.steps} 步操作，定时器触发 "
        f"{result.timers_fired} 次，模拟 {START.date()} 至 {END.date()}"
    )
    engine = build_engine(load_settings())
    try:
        titles = Titles(engine)
        rows = [[titles.workflow(w), titles.state(w, s), n] for w, s, n in result.cases]
        click.echo(format_table(["流程", "当前环节", "案件数"], rows))
    finally:
        engine.store.dispose()
    for line in result.refused:
        click.echo(f"  refused: {line}", err=True)
    click.echo(
        f"本系统时钟停在模拟日期 {END.date()}（qingliu time 查看，qingliu time clear 恢复系统时钟）"
    )
    click.echo("try: qingliu ledger list | qingliu report progress | qingliu report overdue")
    click.echo(
        "     qingliu report monitoring --as-of 2024-12-31 | qingliu report patrols"
        " | qingliu report campaign | qingliu report screening"
    )


def _users() -> None:
    """Create the demo's console users and print their passwords, once."""
    engine = build_engine(load_settings())
    try:
        made = create_demo_users(engine)
        roles = engine.roles
    finally:
        engine.store.dispose()
    if not made:
        return
    rows = [[u.username, password, u.display_name, roles.title(u.role)] for u, password in made]
    click.echo("控制台用户（密码只显示这一次；qingliu user passwd 可重设）：")
    click.echo(format_table(["用户名", "密码", "姓名", "角色"], rows))
