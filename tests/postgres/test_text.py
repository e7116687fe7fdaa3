"""PostgreSQL cannot store U+0000 in text or JSONB: such input is refused as invalid input (a
422 in the API), not a database error, and nothing is written."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT

pytestmark = pytest.mark.postgres

CLERK = Actor("clerk", "clerk")
MESSAGE = "invalid input: $: text cannot contain the NUL character (U+0000)"


def test_nul_in_a_filter_or_in_case_data_is_invalid_input(engine: Engine) -> None:
    engine.load([ROOT / "tests" / "fixtures" / "backend" / "steps.yaml"])
    case = engine.create_case("mp_steps", {}, CLERK)
    with pytest.raises(InvalidInput) as refused:
        engine.list_cases(CLERK, subject="a\x00b")
    assert str(refused.value) == MESSAGE
    with pytest.raises(InvalidInput) as refused:
        engine.fire(case.id, "note", CLERK, {"note": "a\x00b"})
    assert str(refused.value) == MESSAGE
    assert engine.get_case(case.id).version == case.version  # nothing written
    engine.fire(case.id, "note", CLERK, {"note": "a\\u0000b is just text"})
    assert engine.get_case(case.id).case.data["note"] == "a\\u0000b is just text"
