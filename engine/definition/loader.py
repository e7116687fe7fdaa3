"""Safe YAML with line marks.

``load_yaml`` turns text into plain Python values (dict, list, str, int, float, bool, None) and
a map from each node's path (a tuple of keys and indexes) to its 1-based line and column, so any
later check can point at the offending node. Only ``true``/``false`` are booleans, timestamps
stay strings, duplicate keys are errors, and nothing is ever constructed from a Python tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Problem

__all__ = ["Document", "Path", "json_path", "load_yaml"]

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that only knows ``true``/``false`` as booleans and no timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}

_ALLOWED_TAGS: dict[type[yaml.Node], set[str]] = {
    yaml.ScalarNode: _SCALAR_TAGS,
    yaml.SequenceNode: {"tag:yaml.org,2002:seq"},
    yaml.MappingNode: {"tag:yaml.org,2002:map"},
}


@dataclass
class Document:
    """A parsed YAML file: its value and where each node sits in the text."""

    source: str
    value: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def mark(self, path: Path, at_key: bool = False) -> tuple[int, int]:
        """Line and column of the node at ``path`` (of its key, with ``at_key``), or of its
        nearest existing ancestor."""
        if at_key and tuple(path) in self.key_marks:
            return self.key_marks[tuple(path)]
        probe = tuple(path)
        while probe not in self.marks and probe:
            probe = probe[:-1]
        return self.marks.get(probe, (1, 1))

    def problem(self, path: Path, message: str, at_key: bool = False) -> Problem:
        line, column = self.mark(path, at_key)
        return Problem(self.source, line, column, message, json_path(path))


def json_path(path: Path) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class _Builder:
    def __init__(self, doc: Document, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.doc.marks[path] = _mark(node)
        if node.tag not in _ALLOWED_TAGS[type(node)]:
            self._fail(node, f"YAML tag {node.tag!r} is not allowed")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                continue
            if not isinstance(key, str | int) or isinstance(key, bool):
                self._fail(key_node, f"mapping key {key!r} must be a string")
                continue
            key = str(key)
            if key in out:
                self._fail(key_node, f"duplicate key {key!r}")
                continue
            self.doc.key_marks[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            self._fail(node, "mapping keys must be plain strings")
            return None
        return self.loader.construct_object(node)

    def _fail(self, node: yaml.Node, message: str) -> None:
        line, column = _mark(node)
        self.problems.append(Problem(self.doc.source, line, column, message))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str, source: str = "<string>") -> tuple[Document, list[Problem]]:
    """Parse one YAML document. Problems (syntax, tags, duplicate keys) are returned, not raised."""
    doc = Document(source=source, value=None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return doc, [Problem(source, 1, 1, "the file is empty")]
        builder = _Builder(doc, loader)
        doc.value = builder.build(node, ())
        return doc, builder.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = exc.context or ""
        if context and exc.context_mark is not None and exc.context_mark is not mark:
            context += f" (from line {exc.context_mark.line + 1}:{exc.context_mark.column + 1})"
        message = ": ".join(str(part) for part in (context, exc.problem) if part)
        return doc, [Problem(source, line, column, f"YAML syntax: {message}")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is marked
        return doc, [Problem(source, 1, 1, f"YAML: {exc}")]
    finally:
        loader.dispose()
