"""What a guard or action touches, found by reading its code: the case-data fields it reads and
writes, the payload fields it reads, the reference files it reads, the subjects (ledger records)
it reads and writes and the workflows whose cases it opens.

Why static, not declared: a declaration next to ``@registry.action`` is a second copy of what
the code says, and it drifts the day someone edits the body. Reading the code (``ast``) finds
what the code does, now. The reading follows the handler into the functions it calls that live
in the same domain package (``handlers.flows._case.update_outfall``, ``handlers.reference.data``
accessors), binding each argument to what it is: the context, ``ctx.data``, ``ctx.payload``,
``ctx.reference``, ``ctx.ops`` or a constant string. So ``ref.rectification_deadline(
ctx.reference, basin)`` is known to read ``deadlines.yaml``, because the accessor does
``reference.get("deadlines")`` through ``_list(reference, "deadlines", ...)``.

What counts (``F`` is a constant string, or a name bound to one)::

    ctx.data["F"]  ctx.data.get("F")  "F" in ctx.data          read
    ctx.data["F"] = ...  del ctx.data["F"]  ctx.data.pop("F")  write
    ctx.data["F"] += ...  ctx.data.setdefault("F", ...)          read and write
    ctx.data["F"].append(...) (any method that changes a list or dict)   read and write
    ctx.data.update(F=..., **{"F": ...})                         write
    ctx.payload["F"]  ctx.payload.get("F")                       payload read
    ctx.reference["F"]  ctx.reference.get("F")                   reference file F read
    ctx.ops.get_subject("K", ...) / owner_of / list_subjects     subject kind K read
    ctx.ops.put_subject("K", ...)                                subject kind K written
    ctx.ops.open_case("W", ...) / open_case_if_absent            opens a case of workflow W

A key the reading cannot name (computed at run time) is reported as ``COMPUTED``, and a use of
the whole ``ctx.data`` (``dict(ctx.data)``, passing it to code outside the domain) as
``WHOLE``, as is a handler whose code cannot be read at all (a lambda, a builtin); the
catalogue shows both, so nothing is silently left out.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

__all__ = ["COMPUTED", "WHOLE", "Touches", "touches"]

COMPUTED = "(computed)"  # a key known only at run time
WHOLE = "(all)"  # the whole mapping

_CTX, _DATA, _PAYLOAD, _REF, _OPS = "ctx", "data", "payload", "reference", "ops"
_CTX_PARTS = {"data": _DATA, "payload": _PAYLOAD, "reference": _REF, "ops": _OPS}
_MUTATORS = {"append", "extend", "insert", "remove", "clear", "update", "pop", "setdefault"}
_SUBJECT_READS = {"get_subject", "owner_of", "list_subjects"}
_OPENS = {"open_case", "open_case_if_absent"}


@dataclass
class Touches:
    """What one handler touches (sets of names; see the module docstring)."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    payload: set[str] = field(default_factory=set)
    reference: set[str] = field(default_factory=set)
    subjects_read: set[str] = field(default_factory=set)
    subjects_written: set[str] = field(default_factory=set)
    opens: set[str] = field(default_factory=set)

    def merge(self, other: Touches) -> None:
        for name in vars(self):
            getattr(self, name).update(getattr(other, name))

    def to_json(self) -> dict[str, list[str]]:
        return {name: sorted(values) for name, values in vars(self).items()}


# An abstract value: one of the context parts above, ("const", texts) for a name bound to one
# of a few constant strings (a loop over a constant tuple), or None (unknown).
Value = str | tuple[str, tuple[str, ...]] | None
Env = dict[str, Value]


def touches(fn: Callable[..., Any]) -> Touches:
    """What ``fn(ctx)`` touches, following the domain functions it calls. A handler whose code
    cannot be read (a builtin, a lambda) may touch anything: ``WHOLE`` read and written."""
    if not isinstance(fn, types.FunctionType) or _tree(fn) is None:
        return Touches(reads={WHOLE}, writes={WHOLE})
    params = _params(fn)
    env: Env = {params[0]: _CTX} if params else {}
    return _Reader(_package(fn)).read(fn, env)


def _package(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__module__", "") or "").split(".")[0]


def _params(fn: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


@cache
def _tree(fn: types.FunctionType) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        node = ast.parse(source).body[0]
    except SyntaxError:  # a lambda's line out of its expression
        return None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == fn.__name__:
        return node
    return None


def _consts(values: Any) -> Value:
    found = tuple(dict.fromkeys(values))
    return ("const", found) if found else None


def _env_key(env: Env) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in env.items() if v is not None))


class _Reader:
    def __init__(self, package: str) -> None:
        self.package = package
        self.seen: set[tuple[int, tuple[tuple[str, str], ...]]] = set()

    def read(self, fn: Callable[..., Any], env: Env) -> Touches:
        out = Touches()
        key = (id(fn), _env_key(env))
        if not isinstance(fn, types.FunctionType) or key in self.seen:
            return out
        tree = _tree(fn)
        if tree is None:
            return out
        self.seen.add(key)
        _Body(self, fn, dict(env), out).run(tree)
        return out

    def follows(self, fn: Any) -> bool:
        return isinstance(fn, types.FunctionType) and _package(fn) == self.package


class _Body:
    """One function body read with ``env``: names bound to context parts or constants."""

    def __init__(self, reader: _Reader, fn: types.FunctionType, env: Env, out: Touches) -> None:
        self.reader, self.fn, self.env, self.out = reader, fn, env, out
        self.globals: dict[str, Any] = fn.__globals__

    def run(self, tree: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for _ in range(2):  # aliases of aliases (``data = ctx.data``; ``d = data``)
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    self._bind(node.targets[0], self.value(node.value))
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    self._bind(node.target, self.value(node.value))
                elif isinstance(node, ast.For | ast.comprehension):
                    self._bind_loop(node.target, node.iter)
        for node in ast.walk(tree):
            self._visit(node)

    def _bind(self, target: ast.expr, found: Value) -> None:
        if isinstance(target, ast.Name) and target.id not in self.env and found is not None:
            self.env[target.id] = found

    def _bind_loop(self, target: ast.expr, over: ast.expr) -> None:
        """``for k in ("a", "b")``, ``for k in KEYS`` (a constant tuple), and
        ``for name, label in (("a", "A"), ...)``: each name bound to the strings it takes."""
        rows = self._rows(over)
        if isinstance(target, ast.Name):
            self._bind(target, _consts(row for row in rows if isinstance(row, str)))
        elif isinstance(target, ast.Tuple):
            for i, part in enumerate(target.elts):
                column = (row[i] for row in rows if isinstance(row, tuple) and len(row) > i)
                self._bind(part, _consts(v for v in column if isinstance(v, str)))

    def _rows(self, over: ast.expr) -> list[Any]:
        bound = self.env.get(over.id) if isinstance(over, ast.Name) else None
        if isinstance(bound, tuple):
            return list(bound[1])
        if isinstance(over, ast.Name) and over.id not in self.env:
            found = self.globals.get(over.id)
            return list(found) if isinstance(found, tuple | list | frozenset) else []
        try:
            found = ast.literal_eval(over)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return []
        return list(found) if isinstance(found, tuple | list) else []

    # -- values -------------------------------------------------------------------------------

    def value(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return ("const", (node.value,))
        if isinstance(node, ast.Tuple | ast.List) and node.elts:
            texts = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(texts) == len(node.elts) and all(isinstance(t, str) for t in texts):
                return _consts(texts)
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            found = self.globals.get(node.id)
            return ("const", (found,)) if isinstance(found, str) else None
        if isinstance(node, ast.Attribute):
            if self.value(node.value) == _CTX:
                return _CTX_PARTS.get(node.attr)
            owner = self._module(node.value)
            found = getattr(owner, node.attr, None) if owner is not None else None
            return ("const", (found,)) if isinstance(found, str) else None
        return None

    def _module(self, node: ast.expr) -> types.ModuleType | None:
        if isinstance(node, ast.Name) and node.id not in self.env:
            found = self.globals.get(node.id)
            return found if isinstance(found, types.ModuleType) else None
        return None

    def keys(self, node: ast.expr | None) -> tuple[str, ...]:
        found = self.value(node) if node is not None else None
        return found[1] if isinstance(found, tuple) else (COMPUTED,)

    # -- uses ---------------------------------------------------------------------------------

    def _visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Subscript):
            self._subscript(node)
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Compare):
            self._compare(node)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
            self._augmented(node.target)

    def _augmented(self, target: ast.Subscript) -> None:
        if self.value(target.value) == _DATA:
            self.out.reads.update(self.keys(target.slice))

    def _subscript(self, node: ast.Subscript) -> None:
        part, keys = self.value(node.value), self.keys(node.slice)
        if part == _DATA:
            (self.out.reads if isinstance(node.ctx, ast.Load) else self.out.writes).update(keys)
        elif part == _PAYLOAD:
            self.out.payload.update(keys)
        elif part == _REF:
            self.out.reference.update(keys)

    def _compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and self.value(right) == _DATA:
                self.out.reads.update(self.keys(node.left))

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = self.value(func.value)
            if owner in (_DATA, _PAYLOAD, _REF):
                self._method(str(owner), func.attr, node)
                return
            if owner == _OPS:
                self._ops(func.attr, node)
                return
            changed = func.value
            if isinstance(changed, ast.Subscript) and func.attr in _MUTATORS:
                self._mutated(changed)
        self._follow(node)

    def _mutated(self, node: ast.Subscript) -> None:
        """``ctx.data["F"].append(...)``: F is read and changed."""
        if self.value(node.value) == _DATA:
            self.out.writes.update(self.keys(node.slice))

    def _method(self, part: str, method: str, node: ast.Call) -> None:
        first = node.args[0] if node.args else None
        if part == _PAYLOAD:
            self.out.payload.update(self.keys(first) if method == "get" else (WHOLE,))
        elif part == _REF:
            self.out.reference.update(self.keys(first) if method == "get" else (WHOLE,))
        elif method == "get":
            self.out.reads.update(self.keys(first))
        elif method in ("pop", "setdefault"):
            self.out.writes.update(self.keys(first))
            if method == "setdefault":
                self.out.reads.update(self.keys(first))
        elif method == "update":
            self._update(node)
        else:  # items(), keys(), copy() ...: the whole of it
            self.out.reads.add(WHOLE)

    def _update(self, node: ast.Call) -> None:
        keys = [kw.arg or COMPUTED for kw in node.keywords]
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                keys.extend(k for key in arg.keys for k in self.keys(key))
            else:
                keys.append(COMPUTED)
        self.out.writes.update(keys)

    def _ops(self, method: str, node: ast.Call) -> None:
        first = self.keys(node.args[0]) if node.args else (COMPUTED,)
        if method in _SUBJECT_READS:
            self.out.subjects_read.update(first)
        elif method == "put_subject":
            self.out.subjects_written.update(first)
        elif method in _OPENS:
            self.out.opens.update(first)

    def _follow(self, node: ast.Call) -> None:
        """A call of a domain function: read it with its arguments bound."""
        callee = self._callee(node.func)
        if not self.reader.follows(callee):
            self._escapes(node)
            return
        params = _params(callee)
        env: Env = {}
        for name, arg in zip(params, node.args, strict=False):
            env[name] = self.value(arg)
        for kw in node.keywords:
            if kw.arg is not None:
                env[kw.arg] = self.value(kw.value)
        self.out.merge(self.reader.read(callee, env))

    def _callee(self, func: ast.expr) -> Any:
        if isinstance(func, ast.Name):
            return self.globals.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = self.globals.get(func.value.id)
            if isinstance(owner, types.ModuleType):
                return getattr(owner, func.attr, None)
        return None

    def _escapes(self, node: ast.Call) -> None:
        """``ctx.data`` handed whole to code the reading does not follow (``dict(ctx.data)``),
        or the context itself (that code may read and write any field)."""
        for arg in [*node.args, *(kw.value for kw in node.keywords)]:
            found = self.value(arg)
            if found in (_DATA, _CTX):
                self.out.reads.add(WHOLE)
            if found == _CTX:
                self.out.writes.add(WHOLE)
