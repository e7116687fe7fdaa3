"""The domain plug-in: what a domain package (``handlers/`` for the outfall campaign) gives the
generic engine, as one object loaded in one place.

``config/settings.yaml`` names the package (``handlers: handlers``); the package offers
``domain() -> Domain``::

    def domain() -> Domain:
        return Domain(
            name="handlers",
            registry=Registry.merged(...),          # the guards and actions workflows name
            check_reference=check_reference,        # problems in config/reference/*.yaml
            cli_commands=cli_commands,              # click commands added to `qingliu`
            api_routers=api_routers,                # FastAPI routers mounted under /api/v1
            console_routers=console_routers,        # console pages (engine.console)
            console_templates=console_templates,    # their Jinja2 template folders
            console_menu=console_menu,              # engine.console.menu.MenuItem entries
            console_static=console_static,          # (url prefix, folder) of static files
            body_ceilings=body_ceilings,            # larger body limits of some pages
            body_checks=body_checks,                # refusals before a large body is read
        )

The commands and routers are offered as functions, so a process that serves no HTTP does not
import FastAPI's routes and one that runs no CLI does not build click commands. Whatever goes
wrong in finding the package or its ``domain()`` is one ``ConfigError`` that says what to fix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from engine.errors import ConfigError
from engine.handlers import Registry

__all__ = ["Domain", "load_domain"]


def _nothing() -> Sequence[Any]:
    return ()


def _no_problems(reference: Mapping[str, Any]) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class Domain:
    name: str
    registry: Registry
    # Problems in the reference data, one line each naming file and key; the engine refuses
    # to start while there are any.
    check_reference: Callable[[Mapping[str, Any]], Sequence[str]] = _no_problems
    # click commands and groups added to `qingliu` under their own names (an engine command
    # of the same name wins).
    cli_commands: Callable[[], Sequence[Any]] = _nothing
    # FastAPI routers: one whose prefix starts with /api/ is mounted as is, any other under
    # /api/v1; their routes use engine.api.auth.current_actor and engine.api.deps.get_engine.
    api_routers: Callable[[], Sequence[Any]] = _nothing
    # Console pages (engine.console): FastAPI routers mounted as they are, with
    # route_class=engine.console.web.ConsoleRoute and engine.console.web.Signed for the user;
    # the folders of their templates (searched before the engine's); their menu entries
    # (engine.console.menu.MenuItem).
    console_routers: Callable[[], Sequence[Any]] = _nothing
    console_templates: Callable[[], Sequence[Any]] = _nothing
    console_menu: Callable[[], Sequence[Any]] = _nothing
    # Static files of the domain's pages: (url prefix, folder) pairs, mounted as they are
    # (e.g. ("/static/public", handlers/public/static)).
    console_static: Callable[[], Sequence[tuple[str, Any]]] = _nothing
    # Pages that take a larger body than max_body_bytes (a form with photos): (path pattern,
    # matched whole on POST, limit in bytes) pairs, as engine.api.limits.BodyLimits takes them.
    body_ceilings: Callable[[], Sequence[tuple[Any, int]]] = _nothing
    # Checks of such a page run before its body is read (engine.api.limits.BodyCheck): (path
    # pattern, async function of the ASGI scope giving a response to answer instead, or None).
    body_checks: Callable[[], Sequence[tuple[Any, Any]]] = _nothing


@cache
def load_domain(module_name: str) -> Domain:
    """The domain of ``module_name`` (built once per process)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"the domain package {module_name!r} (settings.yaml: handlers) cannot be imported: "
            f"{exc}"
        ) from exc
    offer = getattr(module, "domain", None)
    if not callable(offer):
        raise ConfigError(
            f"the domain package {module_name!r} has no domain() function returning an "
            "engine.domain.Domain"
        )
    found = offer()
    if not isinstance(found, Domain):
        raise ConfigError(f"{module_name}.domain() returned {type(found).__name__}, not a Domain")
    return found
