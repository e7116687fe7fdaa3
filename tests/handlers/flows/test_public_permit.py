"""The public page shows an outfall's 排污许可证编号 (issued to a unit, public on the national
permit platform), but not when its responsible party is a natural person, whose name the page
masks: the permit number would name them."""

from __future__ import annotations

from engine.runtime import Engine
from handlers.public.facts import public_facts
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

PERMIT = "91371524MA3C00000X001P"


def test_the_permit_number_is_shown_for_a_unit_and_hidden_for_a_person(engine: Engine) -> None:
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall("371524-0001", responsible_party="东阿县某化工有限公司", permit_number=PERMIT),
        outfall("371524-0002", responsible_party="张三", permit_number=PERMIT),
    )
    unit = public_facts(engine, "371524-0001")
    assert (unit.responsible_party, unit.permit_number) == ("东阿县某化工有限公司", PERMIT)
    person = public_facts(engine, "371524-0002")
    assert (person.responsible_party, person.permit_number) == ("张**", "")
