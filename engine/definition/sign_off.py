"""Joint sign-off (会签): a state's ``sign_off`` block, what it means and what is wrong with it.

A state with ``sign_off`` waits until each of a set of parties has signed, in any order (or
any ``need`` of them). The parties are roles named in the definition (``parties: {roles:
[...]}``) or the list of role codes a case-data field holds (``parties: {data: field}``). A
party signs by firing ``trigger``; when the condition holds, the engine fires ``done`` itself
(``engine.sign_off`` runs it). ``refuse`` (optional) is an ordinary transition a party fires to
end the sign-off as refused.

``sign_off_problems`` is the validator's part (``engine.definition.validate`` calls it);
``sign_offs`` reads the checked blocks of a definition, once per definition text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.definition.loader import Document, Path, load_yaml
from engine.definition.model import ADMIN, SYSTEM, Definition
from engine.errors import Problem

__all__ = ["DEFAULT_PAYLOAD", "SignOffSpec", "sign_off_problems", "sign_offs"]

# What a signature carries when the block names no payload_schema: an optional opinion.
DEFAULT_PAYLOAD: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"opinion": {"type": "string", "minLength": 1, "description": "意见"}},
}


@dataclass(frozen=True)
class SignOffSpec:
    state: str
    trigger: str
    done: str
    need: int | None = None  # None: all of them
    roles: tuple[str, ...] = ()
    data_field: str | None = None
    refuse: str | None = None
    title: str = ""
    payload_schema: Mapping[str, Any] | bool = field(default_factory=lambda: DEFAULT_PAYLOAD)

    def parties(self, data: Mapping[str, Any]) -> list[str]:
        """The parties of a round: the named roles, or the role codes the data field holds
        (each once, in order; anything but a string ignored)."""
        if self.data_field is None:
            return list(self.roles)
        value = data.get(self.data_field)
        items = value if isinstance(value, list) else []
        return list(dict.fromkeys(str(v) for v in items if isinstance(v, str) and v))

    def needed(self, n: int) -> int:
        """Signatures that complete a round of ``n`` parties: all, or ``need`` (at most
        ``n``: a data list shorter than ``need`` needs every party on it)."""
        return n if self.need is None else min(self.need, n)

    def to_json(self) -> dict[str, Any]:
        parties: dict[str, Any] = (
            {"data": self.data_field} if self.data_field else {"roles": list(self.roles)}
        )
        return {
            "title": self.title,
            "parties": parties,
            "need": "all" if self.need is None else self.need,
            "trigger": self.trigger,
            "refuse": self.refuse,
            "done": self.done,
            "payload_schema": self.payload_schema,
        }


def _spec(state: str, raw: Mapping[str, Any]) -> SignOffSpec:
    parties = raw["parties"]
    need = raw.get("need", "all")
    return SignOffSpec(
        state=state,
        trigger=raw["trigger"],
        done=raw["done"],
        need=None if need == "all" else int(need),
        roles=tuple(parties.get("roles", ())),
        data_field=parties.get("data"),
        refuse=raw.get("refuse"),
        title=raw.get("title", ""),
        payload_schema=raw.get("payload_schema", DEFAULT_PAYLOAD),
    )


def specs_of(v: Mapping[str, Any]) -> dict[str, SignOffSpec]:
    """The sign-off blocks of a checked definition's values, by state."""
    return {
        name: _spec(name, s["sign_off"])
        for name, s in (v.get("states") or {}).items()
        if isinstance(s, Mapping) and "sign_off" in s
    }


_CACHE: dict[str, dict[str, SignOffSpec]] = {}


def sign_offs(d: Definition) -> Mapping[str, SignOffSpec]:
    """The sign-off blocks of ``d`` by state (read from its text once per content hash)."""
    found = _CACHE.get(d.content_hash)
    if found is None:
        found = {}
        if "sign_off" in d.source_text:
            doc, _ = load_yaml(d.source_text, d.name)
            found = specs_of(doc.value if isinstance(doc.value, Mapping) else {})
        _CACHE[d.content_hash] = found
    return found


# -- validation -------------------------------------------------------------------------------


def sign_off_problems(doc: Document, v: Mapping[str, Any]) -> list[Problem]:
    """Every problem of every ``sign_off`` block of a definition that fits the JSON Schema."""
    out: list[Problem] = []
    for name, state in v["states"].items():
        if "sign_off" in state:
            out.extend(_problems(doc, v, name, state))
    return out


def _from(v: Mapping[str, Any], state: str, trigger: str) -> list[Mapping[str, Any]]:
    found = []
    for t in v["transitions"]:
        source = t["source"]
        sources = [source] if isinstance(source, str) else list(source)
        if t["trigger"] == trigger and (state in sources or source == "*"):
            found.append(t)
    return found


def _problems(doc: Document, v: Mapping[str, Any], name: str, state: Any) -> Iterator[Problem]:
    raw = state["sign_off"]
    at: Path = ("states", name, "sign_off")
    if state.get("final", False):
        yield doc.problem(at, f"final state {name!r} cannot wait for a sign-off", at_key=True)
    yield from _parties(doc, v, at, raw)
    yield from _triggers(doc, v, at, name, raw)
    if "payload_schema" in raw:
        try:
            Draft202012Validator.check_schema(raw["payload_schema"])
        except SchemaError as exc:
            yield doc.problem((*at, "payload_schema"), f"not a valid JSON Schema: {exc.message}")


def _parties(doc: Document, v: Mapping[str, Any], at: Path, raw: Any) -> Iterator[Problem]:
    parties = raw["parties"]
    roles = set(v["roles"]) - {ADMIN, SYSTEM}
    for i, role in enumerate(parties.get("roles", [])):
        if role not in roles:
            yield doc.problem(
                (*at, "parties", "roles", i),
                f"party {role!r} is not one of this workflow's roles ({', '.join(sorted(roles))})",
            )
    if "data" in parties:
        yield from _data_field(doc, v, (*at, "parties", "data"), parties["data"])
    need = raw.get("need", "all")
    n = len(parties.get("roles", []))
    if isinstance(need, int) and "roles" in parties and need > n:
        yield doc.problem(
            (*at, "need"), f"need {need} is more than the {n} parties named: it can never hold"
        )


def _triggers(
    doc: Document, v: Mapping[str, Any], at: Path, name: str, raw: Any
) -> Iterator[Problem]:
    for key in ("done", "refuse"):
        if raw.get(key) == raw["trigger"]:
            message = f"sign trigger {raw['trigger']!r} is also this sign-off's {key} trigger"
            yield doc.problem((*at, "trigger"), message)
    if _from(v, name, raw["trigger"]):
        yield doc.problem(
            (*at, "trigger"),
            f"sign trigger {raw['trigger']!r} is also a transition from {name!r}: the sign-off "
            "owns it (declare only the done and refuse transitions)",
        )
    done = _from(v, name, raw["done"])
    if not done:
        yield doc.problem(
            (*at, "done"), f"done trigger {raw['done']!r} has no transition from {name!r}"
        )
    elif any(t.get("internal", False) or t.get("dest") == name for t in done):
        yield doc.problem(
            (*at, "done"), f"done trigger {raw['done']!r} must leave {name!r} (a transition out)"
        )
    elif any("payload_schema" in t or t.get("merge_payload") for t in done):
        yield doc.problem(
            (*at, "done"),
            f"done trigger {raw['done']!r}: its transition takes no payload_schema or "
            "merge_payload (the engine gives it the round as payload)",
        )
    for i, timer in enumerate((v.get("timers") or {}).get(name) or []):
        if timer.get("fires") == raw["done"]:
            yield doc.problem(
                ("timers", name, i, "fires"),
                f"timer fires {raw['done']!r}, the done trigger of the sign-off in {name!r}: "
                "the engine takes it when the sign-off holds, nobody else",
            )
    if raw.get("refuse") is not None and not _from(v, name, raw["refuse"]):
        yield doc.problem(
            (*at, "refuse"), f"refuse trigger {raw['refuse']!r} has no transition from {name!r}"
        )


def _data_field(doc: Document, v: Mapping[str, Any], at: Path, field: str) -> Iterator[Problem]:
    """A data party list is a property of data_schema: an array of strings (role codes)."""
    schema = v.get("data_schema")
    props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    prop = props.get(field) if isinstance(props, Mapping) else None
    if not isinstance(prop, Mapping):
        yield doc.problem(at, f"party field {field!r} is not a property of data_schema")
        return
    items = prop.get("items")
    strings = isinstance(items, Mapping) and (
        items.get("type") == "string"
        or (isinstance(items.get("enum"), list) and all(isinstance(e, str) for e in items["enum"]))
    )
    if prop.get("type") != "array" or not strings:
        yield doc.problem(
            at,
            f"party field {field!r} must be a list of strings (type: array, items: "
            "{type: string}): the role codes of the parties",
        )
