"""Safe YAML with line marks.

``load_yaml`` turns text into plain Python values (dict, list, str, int, float, bool, None) and
a map from each node's path (a tuple of keys and indexes) to its 1-based line and column, so any
later check can point at the offending node. Only ``true``/``false`` are booleans, timestamps
stay strings, duplicate keys are errors, and nothing is ever constructed from a Python tag.

Anchors and aliases are allowed (administrators share blocks with them), but what they expand
to is bounded, so a few hundred bytes cannot ask for gigabytes (the "billion laughs" alias
bomb). The limits below are checked while composing and on the composed node graph, *before*
any Python value is built: an alias is one shared node there, so the expanded size of every node
is counted once, with memoisation, in time proportional to the text. A document over a limit is
one ``LimitExceeded`` problem at the node that crossed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from engine.errors import Problem

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_NODES",
    "Document",
    "LimitExceeded",
    "Path",
    "json_path",
    "load_yaml",
]

Path = tuple[str | int, ...]

# The shipped workflows are 3-11 KB, 700-2,500 nodes, nesting depth under 12, with few aliases.
MAX_DOCUMENT_BYTES = 1 << 20  # UTF-8 bytes of one file or request body: 1 MiB, as the body limit
MAX_NODES = 100_000  # scalars, sequences and mappings once every alias is expanded
MAX_ALIASES = 1_000  # ``*name`` uses in one document
MAX_DEPTH = 64  # nesting of sequences and mappings, aliases expanded


class LimitExceeded(Problem):
    """A document over one of the limits above: refused before anything is built from it."""


class _TooBig(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line: int = mark.line + 1 if mark else 1
        self.column: int = mark.column + 1 if mark else 1
        self.message = message


class _Counting(Composer):
    """PyYAML's composer, counting aliases and nesting as it goes."""

    _aliases = 0
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]  # the parser's
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _TooBig(self._next_mark(), f"more than {MAX_ALIASES} aliases")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooBig(self._next_mark(), f"nested deeper than {MAX_DEPTH}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _next_mark(self) -> Any:
        event: yaml.Event = self.peek_event()  # type: ignore[attr-defined]  # the parser's
        return event.start_mark


class _Loader(_Counting, yaml.SafeLoader):
    """SafeLoader that only knows ``true``/``false`` as booleans and no timestamps, and that
    counts aliases and nesting while it composes."""


class _FastLoader(_Counting, CParser, SafeConstructor, Resolver):
    """The same loader on libyaml's parser (scanning and parsing in C, about 4 times faster on
    a large file); composing stays in Python, so the counts and marks are the same. A file it
    finds broken is read again by ``_Loader``, whose messages name the problem in PyYAML's
    words."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))

_FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers

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


def _check_expansion(root: yaml.Node) -> None:
    """Raise ``_TooBig`` at the first node whose expansion is over ``MAX_NODES`` or
    ``MAX_DEPTH``, or that contains itself through an alias. Each node is measured once."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)
    open_nodes: set[int] = set()

    def measure(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in measured:
            return measured[key]
        if key in open_nodes:
            raise _TooBig(node.start_mark, "an alias refers to a node that contains it")
        size, depth = 1, 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            open_nodes.add(key)
            children = (
                [part for pair in node.value for part in pair]
                if isinstance(node, yaml.MappingNode)
                else node.value
            )
            for child in children:
                child_size, child_depth = measure(child)
                size += child_size
                depth = max(depth, child_depth + 1)
                if size > MAX_NODES:
                    raise _TooBig(node.start_mark, _EXPANDS_TO)
                if depth > MAX_DEPTH:
                    raise _TooBig(node.start_mark, f"nested deeper than {MAX_DEPTH}")
            open_nodes.discard(key)
        measured[key] = size, depth
        return size, depth

    measure(root)


_EXPANDS_TO = f"expands to more than {MAX_NODES} nodes (each alias repeats what it names)"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str, source: str = "<string>") -> tuple[Document, list[Problem]]:
    """Parse one YAML document. Problems (syntax, tags, duplicate keys) are returned, not raised."""
    doc = Document(source=source, value=None)
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        return doc, [LimitExceeded(source, 1, 1, f"larger than {MAX_DOCUMENT_BYTES} bytes")]
    loader: Any = _FastLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            loader.dispose()
            loader = _Loader(text)
            node = loader.get_single_node()
        if node is None:
            return doc, [Problem(source, 1, 1, "the file is empty")]
        _check_expansion(node)
        builder = _Builder(doc, loader)
        doc.value = builder.build(node, ())
        return doc, builder.problems
    except _TooBig as exc:
        return doc, [LimitExceeded(source, exc.line, exc.column, exc.message)]
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
