"""What ``engine.handler_fields`` finds a handler touching, one pattern at a time. The handlers
below are never run: they are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from engine.handler_fields import COMPUTED, WHOLE, touches
from engine.handlers import Context

KIND = "outfall"
KEYS = ("county", "river")


def reads_and_writes(ctx: Context) -> None:
    ctx.data["written"] = ctx.data["subscripted"]
    ctx.data["also_written"] = ctx.data.get("got")
    if "tested" in ctx.data:
        del ctx.data["deleted"]
    ctx.data.pop("popped", None)
    ctx.data["counted"] += 1
    ctx.data.setdefault("ladder", []).append(1)
    ctx.data["listed"].append(2)
    ctx.data.update({"updated": 1})
    ctx.data.update(keyword=2)


def aliases_and_loops(ctx: Context) -> None:
    data = ctx.data
    same = data
    same["through_alias"] = 1
    for key in KEYS:
        data.get(key)
    labels = ("name", "unit")
    _ = {k: ctx.data[k] for k in labels if k in ctx.data}
    for name, _label in (("first", "一"), ("second", "二")):
        ctx.data[name] = 0


def _list(reference: Mapping[str, Any], file: str, key: str) -> list[Any]:
    body = reference.get(file) or {}
    return list(body.get(key) or [])


def _outfall_code(ctx: Context) -> str:
    return str(ctx.data.get("outfall_code") or "")


def _put(ctx: Context, code: str, record: dict[str, Any]) -> None:
    ctx.ops.put_subject(KIND, code, record)


def follows_helpers(ctx: Context) -> None:
    code = _outfall_code(ctx)
    record = ctx.ops.get_subject(KIND, code) or {}
    _put(ctx, code, record)
    _list(ctx.reference, "deadlines", "deadlines")
    _ = ctx.reference["rivers"]
    ctx.ops.open_case_if_absent("escalation", {}, code)
    _ = ctx.payload["reason"], ctx.payload.get("until")


def computed_keys(ctx: Context, name: str = "x") -> None:
    ctx.data[name] = ctx.data.get(str(ctx.payload["which"]))
    _ = dict(ctx.data)
    _ = ctx.payload.items()


def hands_the_context_away(ctx: Context) -> None:
    print(ctx)  # code outside the domain package: it may touch anything


def recursive(ctx: Context) -> None:
    if ctx.data.get("again"):
        recursive(ctx)


def test_every_way_of_reading_and_writing_case_data_counts() -> None:
    found = touches(reads_and_writes)
    assert found.reads == {"subscripted", "got", "tested", "counted", "ladder", "listed"}
    assert found.writes == {
        "counted",
        "written",
        "also_written",
        "deleted",
        "popped",
        "ladder",
        "listed",
        "updated",
        "keyword",
    }
    assert found.payload == found.reference == set()


def test_aliases_and_loops_over_constant_names_are_followed() -> None:
    found = touches(aliases_and_loops)
    assert found.reads == {"county", "river", "name", "unit"}
    assert found.writes == {"through_alias", "first", "second"}


def test_domain_helpers_are_read_with_their_arguments_bound() -> None:
    found = touches(follows_helpers)
    assert found.reads == {"outfall_code"}
    assert found.reference == {"deadlines", "rivers"}
    assert found.subjects_read == found.subjects_written == {"outfall"}
    assert found.opens == {"escalation"}
    assert found.payload == {"reason", "until"}
    assert found.to_json()["opens"] == ["escalation"]


def test_keys_known_only_at_run_time_are_shown_not_dropped() -> None:
    found = touches(computed_keys)
    assert found.writes == {COMPUTED}
    assert found.reads == {COMPUTED, WHOLE}
    assert found.payload == {"which", WHOLE}


def test_the_context_handed_to_code_not_read_may_touch_anything() -> None:
    found = touches(hands_the_context_away)
    assert found.reads == found.writes == {WHOLE}


def test_a_recursive_helper_is_read_once() -> None:
    assert touches(recursive).reads == {"again"}


@pytest.mark.parametrize("fn", [len, lambda ctx: ctx.data["lambda"]], ids=["builtin", "lambda"])
def test_a_handler_whose_code_cannot_be_read_may_touch_anything(fn: Any) -> None:
    # A builtin has no source; a lambda's source line is not a function definition.
    found = touches(fn)
    assert found.reads == found.writes == {WHOLE}
