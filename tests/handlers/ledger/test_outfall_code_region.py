"""An outfall's national code begins with the division code (行政区划代码) of its county
(config/reference/jurisdictions.yaml ``division_code``): the ledger refuses a code whose region
part is another county's, at ``$.code`` (issue 15 item 11)."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.handlers import Actor
from handlers.ledger import Ledger, check_outfall
from tests.handlers.conftest import Record


def test_a_code_of_another_countys_region_is_refused_and_nothing_written(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    for code in ("371521-0001", "371523-0001", "OF-0001"):  # 阳谷县's, 茌平县's (retired), none
        with pytest.raises(InvalidInput) as caught:
            ledger.add(record(code), admin)
        [error] = caught.value.errors
        assert error.json_path == "$.code"
        assert "371502" in error.message
        assert "东昌府区" in error.message
    assert ledger.count() == 0
    view = ledger.add(record("371502-0001"), admin)
    assert view.code == "371502-0001"


def test_moving_an_outfall_to_another_county_is_refused_at_its_code(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    ledger.add(record("371502-0001"), admin)
    with pytest.raises(InvalidInput) as caught:
        ledger.update("371502-0001", {"county": "yanggu"}, admin)
    assert [e.json_path for e in caught.value.errors] == ["$.code"]
    assert "371521" in caught.value.errors[0].message
    assert ledger.get("371502-0001").record["county"] == "dongchangfu"


def test_the_check_names_the_expected_region(ledger: Ledger, record: Record) -> None:
    errors = check_outfall(ledger.reference, record("371503-0001", county="chiping"))
    assert errors == []
    [error] = check_outfall(ledger.reference, record("371523-0001", county="chiping"))
    assert error.message == (
        "the code's region part must be 371503, the division code of 茌平区 (it is 371523)"
    )
