"""Jurisdiction reach, the one answer every read and write asks for."""

from __future__ import annotations

import pytest

from engine.handlers import Actor
from engine.scope import Scope

TREE = Scope(
    {
        "shandong": None,
        "liaocheng": "shandong",
        "donge": "liaocheng",
        "yanggu": "liaocheng",
        "dezhou": "shandong",
        "qihe": "dezhou",
    }
)
CITY = Actor("市局", "eeb_city", "liaocheng")
DONGE = Actor("东阿县分局", "county_eeb", "donge")


@pytest.mark.parametrize(
    "actor",
    [
        Actor("root", "admin", "donge"),
        Actor("timer", "system", "donge"),
        Actor("a party token issued without --jurisdiction", "county_eeb", None),
    ],
)
def test_admin_system_and_actors_without_a_jurisdiction_reach_everything(actor: Actor) -> None:
    assert TREE.reach(actor) is None
    assert TREE.narrow(actor) is None
    assert TREE.narrow(actor, "dezhou") == ["dezhou", "qihe"]
    assert TREE.covers(actor, "qihe")
    assert TREE.covers(actor, None)


def test_an_actor_reaches_its_jurisdiction_and_every_one_beneath_it() -> None:
    assert TREE.reach(CITY) == {"liaocheng", "donge", "yanggu"}
    assert TREE.reach(DONGE) == {"donge"}
    assert TREE.covers(CITY, "yanggu")
    assert not TREE.covers(DONGE, "yanggu")
    assert not TREE.covers(CITY, "qihe")
    assert not TREE.covers(CITY, None)  # a case of no jurisdiction is no county's


def test_a_filter_narrows_the_reach_and_never_widens_it() -> None:
    assert TREE.narrow(CITY) == ["donge", "liaocheng", "yanggu"]
    assert TREE.narrow(CITY, "donge") == ["donge"]
    assert TREE.narrow(CITY, "shandong") == ["donge", "liaocheng", "yanggu"]
    assert TREE.narrow(CITY, "dezhou") == []
    assert TREE.narrow(DONGE, "liaocheng") == ["donge"]
    assert TREE.narrow(None, "liaocheng") == ["donge", "liaocheng", "yanggu"]


def test_an_unknown_code_reaches_only_itself_and_is_not_known() -> None:
    stranger = Actor("x", "county_eeb", "atlantis")
    assert TREE.reach(stranger) == {"atlantis"}
    assert not TREE.knows("atlantis")
    assert TREE.knows("donge")
    assert Scope().knows("atlantis")  # no tree configured: every code is accepted
