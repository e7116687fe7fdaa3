"""A checked ``Definition`` compiled once onto a ``transitions`` machine.

The machine is built once per definition version with ``auto_transitions=False`` (no
``to_<state>()`` that would bypass guards). Every guard and action name is resolved here, so a
missing handler fails at compile time, never at the first fire. A case is not attached to the
machine: one private model object is reused under a lock, its state set for the call, so no
attached models accumulate.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from transitions import Machine

from engine.definition.fields import reads
from engine.definition.model import Definition, TransitionSpec
from engine.definition.quickcheck import SchemaCheck
from engine.errors import (
    ConfigError,
    FieldError,
    Forbidden,
    GuardFailed,
    HandlerFailed,
    InvalidInput,
    Refused,
    TriggerNotAllowed,
)
from engine.handlers import Context, Registry

__all__ = ["CompiledWorkflow"]

_ROLE = "role"
# What a guard or action may raise on purpose, passed to the caller as it is: a refusal, a
# handler failure of a nested case, a configuration problem. Anything else is a bug.
_DELIBERATE = (Refused, HandlerFailed, ConfigError)
_PAYLOAD = "payload"


def _check(schema: Mapping[str, Any] | bool | None) -> SchemaCheck | None:
    return None if schema is None else SchemaCheck(schema)


@dataclass
class _Run:
    """What one call of ``fire`` learned: which transition was taken, why others were not."""

    ctx: Context
    failed: dict[int, str] = field(default_factory=dict)
    payload_errors: dict[int, list[FieldError]] = field(default_factory=dict)
    taken: TransitionSpec | None = None


class _Model:
    state: str


class CompiledWorkflow:
    def __init__(self, definition: Definition, registry: Registry) -> None:
        self.definition = definition
        self.data_check = _check(definition.data_schema)
        self._payload = {t.index: _check(t.payload_schema) for t in definition.transitions}
        self._when = {t.index: _check(t.when) for t in definition.transitions}
        self._guards = {g: registry.guards[g] for t in definition.transitions for g in t.guards}
        # The data fields each transition's `when` judges: a merged payload may not set them.
        self.judged = {t.index: frozenset(reads(t.when)) for t in definition.transitions}
        self._lock = threading.Lock()
        self._model = _Model()
        initial = definition.states[definition.initial]
        self._enter_initial = [self._action(name, registry) for name in initial.on_enter]
        states = [
            {
                "name": s.name,
                "on_enter": [self._action(name, registry) for name in s.on_enter],
                "on_exit": [self._action(name, registry) for name in s.on_exit],
            }
            for s in definition.states.values()
        ]
        transitions = [
            {
                "trigger": t.trigger,
                "source": list(t.sources),
                "dest": t.dest,
                "conditions": self._conditions(t, registry),
                "before": [self._taken(t), *(self._action(a, registry) for a in t.actions)],
            }
            for t in definition.transitions
        ]
        self._machine = Machine(
            model=self._model,
            states=states,
            transitions=transitions,
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    # -- building callbacks -------------------------------------------------------------------

    def _conditions(self, t: TransitionSpec, registry: Registry) -> list[Callable[[Any], bool]]:
        def role_ok(event: Any) -> bool:
            run: _Run = event.kwargs["run"]
            return self._note(run, t, _ROLE, t.admits(run.ctx.actor.role))

        def payload_ok(event: Any) -> bool:
            run: _Run = event.kwargs["run"]
            check = self._payload[t.index]
            errors = check.errors(dict(run.ctx.payload)) if check else []
            if errors:
                run.payload_errors[t.index] = errors
            return self._note(run, t, _PAYLOAD, not errors)

        def when_ok(event: Any) -> bool:
            run: _Run = event.kwargs["run"]
            return self._note(run, t, "when", self.when_holds(t, run.ctx.data))

        # A check with nothing to check is left out: each condition costs a call through
        # ``transitions`` on every firing.
        conditions: list[Callable[[Any], bool]] = [role_ok]
        if self._payload[t.index] is not None:
            conditions.append(payload_ok)
        if self._when[t.index] is not None:
            conditions.append(when_ok)
        for name in t.guards:
            conditions.append(self._guard(t, name, registry))
        return conditions

    def _guard(self, t: TransitionSpec, name: str, registry: Registry) -> Callable[[Any], bool]:
        fn = registry.guards[name]

        def guard(event: Any) -> bool:
            run: _Run = event.kwargs["run"]
            try:
                ok = bool(fn(run.ctx))
            except _DELIBERATE:
                raise
            except Exception as exc:
                raise HandlerFailed(name, run.ctx.case_id, exc) from exc
            return self._note(run, t, name, ok)

        return guard

    @staticmethod
    def _action(name: str, registry: Registry) -> Callable[[Any], None]:
        fn = registry.actions[name]

        def action(event: Any) -> None:
            ctx: Context = event.kwargs["run"].ctx
            try:
                fn(ctx)
            except _DELIBERATE:
                raise
            except Exception as exc:
                raise HandlerFailed(name, ctx.case_id, exc) from exc

        return action

    @staticmethod
    def _taken(t: TransitionSpec) -> Callable[[Any], None]:
        def taken(event: Any) -> None:
            run: _Run = event.kwargs["run"]
            run.taken = t
            run.ctx.dest = t.dest if t.dest is not None else run.ctx.source
            if t.merge_payload:
                run.ctx.data.update(run.ctx.payload)

        return taken

    @staticmethod
    def _note(run: _Run, t: TransitionSpec, what: str, ok: bool) -> bool:
        if not ok:
            run.failed[t.index] = what
        return ok

    # -- queries ------------------------------------------------------------------------------

    def when_holds(self, t: TransitionSpec, data: Mapping[str, Any]) -> bool:
        """``t``'s ``when`` on the case as it is (never on the caller's payload)."""
        check = self._when[t.index]
        return check is None or check.is_valid(dict(data))

    def available(self, state: str, ctx: Context) -> list[str]:
        """Triggers ``ctx.actor`` may fire now: its role is admitted, the ``when`` holds on the
        stored data and every guard passes on an empty payload. A guard that refuses or cannot
        judge without a payload makes its transition unavailable."""
        probe = dataclasses.replace(ctx, payload={})
        out: list[str] = []
        for t in self.definition.transitions_from(state):
            if t.trigger in out or not t.admits(ctx.actor.role) or not self.when_holds(t, ctx.data):
                continue
            if all(self._passes(name, probe) for name in t.guards):
                out.append(t.trigger)
        return out

    def _passes(self, guard: str, ctx: Context) -> bool:
        try:
            return bool(self._guards[guard](ctx))
        except Exception:  # refused or needs a payload: not available now
            return False

    def data_errors(self, data: Mapping[str, Any]) -> list[FieldError]:
        return self.data_check.errors(dict(data)) if self.data_check else []

    # -- firing -------------------------------------------------------------------------------

    def enter_initial(self, ctx: Context) -> None:
        """Run the initial state's on_enter actions for a new case."""
        event = SimpleNamespace(kwargs={"run": _Run(ctx)})
        for action in self._enter_initial:
            action(event)

    def fire(self, state: str, trigger: str, ctx: Context) -> TransitionSpec:
        """Run ``trigger`` from ``state``; ``ctx.data`` is changed in place. Returns the
        transition taken, or raises Forbidden, InvalidInput, TriggerNotAllowed, GuardFailed,
        HandlerFailed."""
        candidates = [t for t in self.definition.transitions_from(state) if t.trigger == trigger]
        if not candidates:
            allowed = self.available(state, ctx)
            raise TriggerNotAllowed(ctx.case_id, trigger, state, allowed)
        run = _Run(ctx)
        with self._lock:
            self._machine.set_state(state, self._model)
            self._machine.events[trigger].trigger(self._model, run=run)
        if run.taken is not None:
            return run.taken
        # Refused: no transition's actions ran, so the data is still what the guards saw.
        allowed = self.available(state, ctx)
        return self._refusal(run, candidates, state, trigger, allowed)

    @staticmethod
    def _refusal(
        run: _Run, candidates: list[TransitionSpec], state: str, trigger: str, allowed: list[str]
    ) -> TransitionSpec:
        reasons = [run.failed.get(t.index, "") for t in candidates]
        role = run.ctx.actor.role
        if all(r == _ROLE for r in reasons):
            raise Forbidden(
                f"role {role!r} may not fire {trigger!r} "
                f"(allowed roles: {', '.join(sorted({r for t in candidates for r in t.roles}))})",
                role=role,
                trigger=trigger,
            )
        if all(r in (_ROLE, _PAYLOAD) for r in reasons):
            raise InvalidInput("payload", _payload_misfit(run, candidates, trigger, state))
        guards = [r for r in reasons if r not in (_ROLE, _PAYLOAD)]
        raise GuardFailed(run.ctx.case_id, trigger, state, allowed, guards)


def _payload_misfit(
    run: _Run, candidates: list[TransitionSpec], trigger: str, state: str
) -> list[FieldError]:
    """Why the payload fits no candidate: the errors every candidate found, or, when the
    payload chooses between transitions (each its own payload_schema), one error naming each
    way and what it expected."""
    tried = [t for t in candidates if t.index in run.payload_errors]
    found = [run.payload_errors[t.index] for t in tried]
    if len(found) == 1:
        return found[0]
    common = [e for e in found[0] if all(e in other for other in found[1:])]
    if common:
        return common
    ways = "; ".join(
        f"{t.title or t.dest}: {errors[0]}" for t, errors in zip(tried, found, strict=True)
    )
    return [FieldError("$", f"fits none of the ways {trigger!r} goes from {state!r} ({ways})")]
