"""The domain plug-in is found in one place and fails in one way: a ConfigError saying what
to fix."""

from __future__ import annotations

import pytest

from engine.domain import Domain, load_domain
from engine.errors import ConfigError


def test_the_shipped_domain_offers_its_registry_check_commands_and_routers() -> None:
    domain = load_domain("handlers")
    assert isinstance(domain, Domain)
    assert "route_report" in domain.registry.actions
    assert domain.check_reference({"roles": {}}) != []  # missing files are named
    assert {c.name for c in domain.cli_commands()} >= {"ledger", "report", "demo"}
    assert [r.prefix for r in domain.api_routers()] == ["/api/v1/outfalls"]
    assert load_domain("handlers") is domain  # built once per process


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("no_such_domain", "'no_such_domain' (settings.yaml: handlers) cannot be imported"),
        ("engine.clock", "'engine.clock' has no domain() function"),
    ],
)
def test_a_domain_that_cannot_be_found_is_one_configuration_error(
    module: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_domain(module)
