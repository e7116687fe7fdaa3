"""The process's Prometheus instruments (``prometheus_client``), made on first use.

Counters and histograms that the engine, its store, the sweep and the HTTP API add to; the
API's ``GET /metrics`` (``engine.api.metrics``) exposes them with the gauges it reads from the
database when scraped. They are made lazily so that ``qingliu serve --workers N`` can switch
the process to prometheus_client's multiprocess mode first (:func:`use_multiprocess`): then
every process (the server's workers, the parent running the sweep, a ``qingliu scheduler``
given the same folder) writes its values to files in one folder, and any worker answers the
whole server's counts. Label values are bounded: route templates, workflow names, triggers,
status codes; never a case id, an outfall code or a token.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["MULTIPROC_ENV", "Instruments", "instruments", "multiprocess_dir", "use_multiprocess"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Request latency buckets (seconds): a transition takes a few ms; pages and reports longer.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    http_requests: Counter
    http_latency: Histogram
    transitions: Counter
    timers_fired: Counter
    timers_fired_late: Counter
    timers_skipped: Counter
    sweeps: Counter
    turn_waits: Counter
    turn_wait_seconds: Counter
    # The labelled children of the hot paths, by label values: prometheus_client's labels()
    # checks and locks on every call, several times the cost of the increment itself.
    _children: dict[tuple[str, ...], Any] = field(default_factory=dict)

    def transition(self, workflow: str, trigger: str) -> None:
        key = ("t", workflow, trigger)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.transitions.labels(workflow, trigger)
        child.inc()

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = ("r", route, method, str(status))
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = (
                self.http_requests.labels(route, method, key[3]),
                self.http_latency.labels(route, method),
            )
        found[0].inc()
        found[1].observe(seconds)


def multiprocess_dir() -> Path | None:
    """The folder of multiprocess mode, when this process is in it."""
    folder = os.environ.get(MULTIPROC_ENV)
    return Path(folder) if folder else None


def use_multiprocess(folder: Path) -> Callable[[], None]:
    """Put this process (and the processes it starts, through the environment) in
    multiprocess mode, writing to ``folder``; returns the function that ends it. Instruments
    made before (in single-process mode) are dropped: the next use makes new ones."""
    from prometheus_client import values

    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]  # read at import
    instruments.cache_clear()

    def undo() -> None:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        instruments.cache_clear()

    return undo


@cache
def instruments() -> Instruments:
    """The instruments of this process. In multiprocess mode they are registered nowhere
    (``/metrics`` reads every process's files); else in prometheus_client's default registry,
    once per process (a second set after ``use_multiprocess`` ended is registered anew)."""
    from prometheus_client import REGISTRY, Counter, Histogram

    registry: CollectorRegistry | None = None if multiprocess_dir() else REGISTRY
    if registry is not None:
        _forget(registry)
    return Instruments(
        http_requests=Counter(
            "qingliu_http_requests",
            "HTTP requests answered, by route template, method and status code",
            ["route", "method", "status"],
            registry=registry,
        ),
        http_latency=Histogram(
            "qingliu_http_request_duration_seconds",
            "Time to the response's start, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        transitions=Counter(
            "qingliu_transitions",
            "Transitions fired (by people, the API, handlers and timers), by workflow and trigger",
            ["workflow", "trigger"],
            registry=registry,
        ),
        timers_fired=Counter("qingliu_timers_fired", "Timers the sweep fired", registry=registry),
        timers_fired_late=Counter(
            "qingliu_timers_fired_late",
            "Timers the sweep fired more than 5 minutes after due",
            registry=registry,
        ),
        timers_skipped=Counter(
            "qingliu_timers_skipped",
            "Due timers whose trigger could not fire (history says why)",
            registry=registry,
        ),
        sweeps=Counter(
            "qingliu_sweeps", "Scheduled sweeps run, by result", ["result"], registry=registry
        ),
        turn_waits=Counter(
            "qingliu_write_turn_waits",
            "SQLite writes that had to wait for their turn (another thread or process writing)",
            registry=registry,
        ),
        turn_wait_seconds=Counter(
            "qingliu_write_turn_wait_seconds",
            "Seconds SQLite writes waited for their turn",
            registry=registry,
        ),
    )


def _forget(registry: CollectorRegistry) -> None:
    """Unregister a previous set of ours (this process left multiprocess mode and back)."""
    for collector in list(getattr(registry, "_collector_to_names", {})):
        names = registry._collector_to_names.get(collector, [])  # noqa: SLF001
        if any(str(n).startswith("qingliu_") for n in names):
            registry.unregister(collector)
