"""Setup approval and filing (设置审批/备案)."""

from __future__ import annotations

from engine.handlers import Context, Registry

registry = Registry()


@registry.guard("water_function_zone_allows")
def water_function_zone_allows(ctx: Context) -> bool:
    """Where the water-function zone misses its target, only urban WWTP outfalls may be set up
    (plan section 三(五): 严控 other outfalls)."""
    if ctx.data.get("zone_meets_target", True):
        return True
    return ctx.data.get("outfall_type") == "urban_wwtp"


@registry.action("publish_decision")
def publish_decision(ctx: Context) -> None:
    """Results are published (审批结果公开): record when and under which decision number."""
    ctx.data["published_at"] = ctx.now.isoformat()
    ctx.data.setdefault("decision_number", f"{ctx.workflow}-{ctx.case_id}")


@registry.action("count_reminder")
def count_reminder(ctx: Context) -> None:
    ctx.data["reminders_sent"] = int(ctx.data.get("reminders_sent", 0)) + 1


@registry.action("mark_overdue")
def mark_overdue(ctx: Context) -> None:
    ctx.data["overdue"] = True
