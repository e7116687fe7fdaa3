"""What the case page shows, read through the facade as the signed-in actor reads the case.

``CasePage.read`` gathers the case (``get_case``: a case the actor may not read is 404), its
diagram (``case_path``: the current state and the path taken), its history (``history``:
confidential values redacted), its pending timers with their badges, and one ``Offer`` per
transition the actor may fire now, with the form its ``payload_schema`` makes. Values are
turned into ``Shown`` rows under their schema titles here, so the template only lays them out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from engine.console import forms
from engine.console.deadlines import Badge, badge
from engine.console.labels import Labels
from engine.definition.attachments import is_attachment
from engine.definition.model import Definition
from engine.definition.sign_off import sign_offs
from engine.diagram import case_graph, render
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import EventRow
from engine.views import CaseView

__all__ = ["CasePage", "Offer", "Shown", "shown"]

SECRET = "（保密）"
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True)
class Shown:
    """A value as read: ``text`` for a scalar or a list of scalars, else ``rows`` (an object:
    (label, Shown) pairs) or ``items`` (a list of objects)."""

    text: str | None = None
    rows: tuple[tuple[str, Shown], ...] = ()
    items: tuple[Shown, ...] = ()
    file: Mapping[str, Any] | None = None  # an attachment value: a thumbnail and a link


def _titles(schema: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """The labels of an object schema's properties and their (merged) schemas."""
    merged = forms.merged_schema(schema)
    labels = {f.name: f.label for f in forms.fields(merged)}
    props = {k: v for k, v in (merged.get("properties") or {}).items() if isinstance(v, Mapping)}
    return labels, props


def shown(value: Any, schema: Any, labels: Labels) -> Shown:
    """``value`` for people: titles from ``schema``, booleans as 是/否, enum values by their
    ``x-titles``, moments in local time."""
    merged = forms.merged_schema(schema) if isinstance(schema, Mapping) else {}
    if is_attachment(value):
        return Shown(file=value)
    if isinstance(value, Mapping):
        names, props = _titles(merged)
        return Shown(
            rows=tuple(
                (names.get(str(k), str(k)), shown(v, props.get(str(k)), labels))
                for k, v in value.items()
            )
        )
    if isinstance(value, list):
        items = merged.get("items")
        if any(isinstance(v, Mapping) for v in value):
            return Shown(items=tuple(shown(v, items, labels) for v in value))
        return Shown(text="、".join(_scalar(v, forms.merged_schema(items), labels) for v in value))
    return Shown(text=_scalar(value, merged, labels))


def _scalar(value: Any, schema: Mapping[str, Any], labels: Labels) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    for choice in forms.choices_of(schema):
        if choice.raw == value:
            return choice.title
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return labels.local(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


@dataclass
class Offer:
    """One form: a transition the actor may fire now."""

    form_id: str  # the transition's index, or sign-<state> for a joint sign-off
    trigger: str
    title: str
    fields: tuple[forms.Field, ...]  # as the schema makes them (arrays of objects: a row)
    inputs: tuple[forms.Field, ...] = ()  # as shown: rows expanded for ``values``
    key: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_files(self) -> bool:
        """A file input anywhere in the form: it posts ``multipart/form-data``."""
        return forms.has_files(self.fields)


@dataclass(frozen=True)
class TimerShown:
    title: str
    due: str
    badge: Badge


@dataclass(frozen=True)
class EventShown:
    seq: int
    kind: str
    title: str
    at: str
    who: str
    states: str
    payload: Shown | None


def offers_of(d: Definition, state: str, available: Sequence[str]) -> list[Offer]:
    out = []
    for t in d.transitions_from(state):
        if t.trigger in available:
            title = t.title or t.trigger
            out.append(Offer(str(t.index), t.trigger, title, forms.fields(t.payload_schema)))
    spec = sign_offs(d).get(state)
    if spec is not None and spec.trigger in available:
        title = spec.title or spec.trigger
        out.append(Offer(f"sign-{state}", spec.trigger, title, forms.fields(spec.payload_schema)))
    return out


@dataclass
class CasePage:
    view: CaseView
    definition: Definition
    diagram: Markup
    data: Shown
    timers: list[TimerShown]
    history: list[EventShown]
    offers: list[Offer]

    @classmethod
    def read(
        cls,
        engine: Engine,
        actor: Actor,
        labels: Labels,
        case_id: int,
        people: Mapping[str, str] | None = None,
    ) -> CasePage:
        """``people``: console users' display names by user name, for the history."""
        view = engine.get_case(case_id, actor)
        d, row, events = engine.case_path(case_id, actor)
        svg = render(case_graph(d, row, events), "svg")
        svg = svg[svg.find("<svg") :]  # inline: no XML declaration
        history = engine.history(case_id, actor)
        data = {k: v for k, v in view.data.items() if k not in view.hidden}
        where = d.jurisdiction_field
        if isinstance(data.get(where), str):
            data[where] = labels.jurisdiction(data[where])  # its name, not its code
        shown_data = shown(data, d.data_schema, labels)
        secret = tuple((label, Shown(text=SECRET)) for label in _hidden_labels(d, view.hidden))
        return cls(
            view=view,
            definition=d,
            diagram=Markup(svg),  # noqa: S704 - our own renderer's SVG, its text escaped there
            data=Shown(rows=shown_data.rows + secret),
            timers=_timers(engine, d, view, labels),
            history=[_event(d, e, labels, people or {}) for e in reversed(history)],
            offers=offers_of(d, view.state, view.available_triggers or []),
        )

    def offer(self, form_id: str) -> Offer | None:
        return next((o for o in self.offers if o.form_id == form_id), None)


def _hidden_labels(d: Definition, hidden: frozenset[str]) -> list[str]:
    names, _ = _titles(d.data_schema)
    return [names.get(k, k) for k in sorted(hidden)]


def _trigger_title(d: Definition, trigger: str | None, source: str | None) -> str:
    if not trigger:
        return ""
    for t in d.transitions:
        if t.trigger == trigger and (source is None or source in t.sources):
            return t.title or trigger
    spec = sign_offs(d).get(source or "")
    if spec is not None and spec.trigger == trigger:
        return spec.title or trigger
    return trigger


def _state(d: Definition, name: str | None) -> str:
    if not name:
        return ""
    spec = d.states.get(name)
    return spec.title if spec is not None else name


def _timers(engine: Engine, d: Definition, view: CaseView, labels: Labels) -> list[TimerShown]:
    calendar = engine.planner.calendar
    now = engine.clock.now()
    out = []
    for t in view.timers:
        if t.status not in ("pending", "paused"):
            continue
        title = _trigger_title(d, t.trigger, t.state)
        due = "" if t.status == "paused" else labels.local(t.due_at)
        out.append(TimerShown(title, due, badge(calendar, now, t)))
    return out


def _event(d: Definition, e: EventRow, labels: Labels, people: Mapping[str, str]) -> EventShown:
    schema: Any = None
    if e.trigger:
        for t in d.transitions:
            if t.trigger == e.trigger and e.from_state in t.sources:
                schema = t.payload_schema
                break
    states = ""
    if e.to_state and e.from_state != e.to_state:
        states = f"{_state(d, e.from_state)} → {_state(d, e.to_state)}".lstrip(" →")
    who = people.get(e.actor or "", e.actor or "")
    role = labels.role(e.role) if e.role else ""
    if role:
        who = f"{who}（{role}）" if who else role
    payload = shown(e.payload, schema, labels) if e.payload else None
    return EventShown(
        seq=e.seq,
        kind=labels.event(e.kind),
        title=_trigger_title(d, e.trigger, e.from_state),
        at=labels.local(e.at),
        who=who,
        states=states,
        payload=payload,
    )
