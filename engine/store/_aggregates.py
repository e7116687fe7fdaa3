"""Grouped counts of subjects with facts about their cases, computed by the database.

A report that counts subjects by what their cases say (has an open case of workflow W as of a
moment, what the last closed one decided) reads groups, not rows: the subjects are grouped by
the ``Key``s asked for and each group comes back with its count. The cases are read through a
scope (their jurisdictions, the workflows the reader may read), which ``engine.aggregates``
works out from the actor, so a case the reader may not read counts for nothing.

Keys (each one value of the group key, in the order asked):

- ``Field(key)``: the subject's ``data[key]`` as a string (None when absent);
- ``Present(key)``: ``data[key]`` is there and not the empty string;
- ``Later(keys, value)``: the first of ``data[keys]`` that is not empty compares greater than
  ``value`` (ISO dates compare as strings); None when every one is empty;
- ``CreatedBefore(moment)``: the subject entered before ``moment``;
- ``InKeys(keys)``: the subject's key is one of ``keys``;
- ``HasCase(workflow, ...)``: a case of ``workflow`` about the subject (its ``subject`` is the
  subject's key) exists: created before ``created_before``; ``open_at``: not closed by that
  moment (open, or last changed at or after it); ``closed_from``/``closed_until``: closed, its
  last change in ``[closed_from, closed_until)``;
- ``LastClosed(workflow, at, key)``: ``data[key]`` (as a string) of the case of ``workflow``
  created and closed before ``at`` whose last change is the latest (the lowest id on a tie).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
)

from engine.store.tables import cases, subjects

__all__ = [
    "CreatedBefore",
    "Field",
    "HasCase",
    "InKeys",
    "Key",
    "LastClosed",
    "Later",
    "Present",
    "count_subjects",
]


@dataclass(frozen=True)
class Field:
    key: str


@dataclass(frozen=True)
class Present:
    key: str


@dataclass(frozen=True)
class Later:
    keys: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class CreatedBefore:
    moment: datetime


@dataclass(frozen=True)
class InKeys:
    keys: frozenset[str]


@dataclass(frozen=True)
class HasCase:
    workflow: str
    created_before: datetime | None = None
    open_at: datetime | None = None
    closed_from: datetime | None = None
    closed_until: datetime | None = None


@dataclass(frozen=True)
class LastClosed:
    workflow: str
    at: datetime
    key: str


Key = Field | Present | Later | CreatedBefore | InKeys | HasCase | LastClosed


def _text(key: str) -> ColumnElement[Any]:
    text: ColumnElement[Any] = subjects.c.data[key].as_string()
    return text


def _has_case(key: HasCase) -> ColumnElement[Any]:
    """The condition on a case row (an aggregate of it tells per subject)."""
    conds: list[ColumnElement[Any]] = [cases.c.workflow == key.workflow]
    if key.created_before is not None:
        conds.append(cases.c.created_at < key.created_before)
    if key.open_at is not None:
        conds.append(or_(cases.c.is_open, cases.c.updated_at >= key.open_at))
    if key.closed_from is not None or key.closed_until is not None:
        conds.append(not_(cases.c.is_open))
    if key.closed_from is not None:
        conds.append(cases.c.updated_at >= key.closed_from)
    if key.closed_until is not None:
        conds.append(cases.c.updated_at < key.closed_until)
    return and_(*conds)


def _case_scope(
    jurisdictions: Sequence[str] | None, workflows: Sequence[str] | None
) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = [cases.c.subject.is_not(None)]
    if jurisdictions is not None:
        out.append(cases.c.jurisdiction.in_(list(jurisdictions)))
    if workflows is not None:
        out.append(cases.c.workflow.in_(list(workflows)))
    return out


def _facts(has: Sequence[HasCase], scope: list[ColumnElement[Any]]) -> Any:
    """One row per subject with a case of the workflows: a 0/1 flag per ``HasCase``."""
    flags = [func.max(case((_has_case(k), 1), else_=0)).label(f"h{i}") for i, k in enumerate(has)]
    return (
        select(cases.c.subject, *flags)
        .where(*scope, cases.c.workflow.in_(sorted({k.workflow for k in has})))
        .group_by(cases.c.subject)
        .subquery("facts")
    )


def _last(i: int, k: LastClosed, scope: list[ColumnElement[Any]]) -> Any:
    """One row per subject: the value of its latest closed case (ties: the lowest id)."""
    order = (cases.c.updated_at.desc(), cases.c.id.asc())
    ranked = (
        select(
            cases.c.subject,
            cases.c.data[k.key].as_string().label("value"),
            func.row_number().over(partition_by=cases.c.subject, order_by=order).label("rank"),
        )
        .where(
            *scope,
            cases.c.workflow == k.workflow,
            cases.c.created_at < k.at,
            not_(cases.c.is_open),
            cases.c.updated_at < k.at,
        )
        .subquery(f"ranked{i}")
    )
    # grouped (one row per subject already) so that the database joins it by an index of its
    # own instead of scanning it for each subject (SQLite's automatic index)
    value = func.max(ranked.c.value).label("value")
    first = select(ranked.c.subject, value).where(ranked.c.rank == 1).group_by(ranked.c.subject)
    return first.subquery(f"last{i}")


def _subject_column(k: Key) -> ColumnElement[Any]:
    if isinstance(k, Field):
        return _text(k.key)
    if isinstance(k, Present):
        return func.coalesce(_text(k.key), literal("")) != literal("")
    if isinstance(k, Later):
        first = func.coalesce(*(func.nullif(_text(n), literal("")) for n in k.keys), null())
        return case((first.is_(None), null()), else_=first > literal(k.value))
    if isinstance(k, CreatedBefore):
        return subjects.c.created_at < k.moment
    assert isinstance(k, InKeys)
    if not k.keys:
        return false()
    # rendered into the statement, not bound: a province retains more outfalls than SQLite's
    # 32,766 (PostgreSQL's 65,535) bound parameters allow
    keys: Any = bindparam("in_keys", sorted(k.keys), expanding=True, literal_execute=True)
    return subjects.c.key.in_(keys)


def count_subjects(
    conn: Connection,
    kind: str,
    group_by: Sequence[Key],
    *,
    jurisdictions: Sequence[str] | None = None,
    created_before: datetime | None = None,
    case_jurisdictions: Sequence[str] | None = None,
    case_workflows: Sequence[str] | None = None,
) -> list[tuple[tuple[Any, ...], int]]:
    """Subjects of ``kind`` (of ``jurisdictions``, entered before ``created_before``) counted
    by ``group_by``; the cases of the facts are those of ``case_jurisdictions`` and of
    ``case_workflows`` (None: all of them)."""
    scope = _case_scope(case_jurisdictions, case_workflows)
    has = [k for k in group_by if isinstance(k, HasCase)]
    last = [k for k in group_by if isinstance(k, LastClosed)]
    facts = _facts(has, scope) if has else None
    lasts = [_last(i, k, scope) for i, k in enumerate(last)]
    columns: list[ColumnElement[Any]] = []
    for k in group_by:
        if isinstance(k, HasCase):
            assert facts is not None
            columns.append(func.coalesce(facts.c[f"h{has.index(k)}"], 0) == 1)
        elif isinstance(k, LastClosed):
            columns.append(lasts[last.index(k)].c.value)
        else:
            columns.append(_subject_column(k))
    labelled = [c.label(f"k{i}") for i, c in enumerate(columns)]
    source: Any = subjects
    if facts is not None:
        source = source.outerjoin(facts, facts.c.subject == subjects.c.key)
    for table in lasts:
        source = source.outerjoin(table, table.c.subject == subjects.c.key)
    query = select(*labelled, func.count()).select_from(source).where(subjects.c.kind == kind)
    if jurisdictions is not None:
        query = query.where(subjects.c.jurisdiction.in_(list(jurisdictions)))
    if created_before is not None:
        query = query.where(subjects.c.created_at < created_before)
    if labelled:
        query = query.group_by(*(f"k{i}" for i in range(len(labelled))))
    return [(tuple(r[:-1]), int(r[-1])) for r in conn.execute(query)]
