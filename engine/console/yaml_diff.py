"""Two versions of a definition side by side: ``difflib`` over the lines of their YAML sources,
as rows of a table (removed lines on the left, added on the right; long unchanged runs folded
to a few lines of context around each change)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["DiffRow", "side_by_side"]

CONTEXT = 3


@dataclass(frozen=True)
class DiffRow:
    kind: str  # same | removed | added | changed | fold
    left_no: int | None = None
    left: str = ""
    right_no: int | None = None
    right: str = ""
    folded: int = 0  # for a fold row: how many unchanged lines it hides


def side_by_side(old: str, new: str, context: int = CONTEXT) -> list[DiffRow]:
    """The rows of the diff from ``old`` to ``new`` (empty when they are the same text)."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    rows: list[DiffRow] = []
    for group in matcher.get_grouped_opcodes(context):
        if rows or group[0][1] > 0:
            rows.append(DiffRow("fold"))
        for tag, i1, i2, j1, j2 in group:
            rows.extend(_rows(tag, a, b, i1, i2, j1, j2))
    return _count_folds(rows, len(a))


def _rows(
    tag: str, a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int
) -> list[DiffRow]:
    if tag == "equal":
        return [
            DiffRow("same", i + 1, a[i], j + 1, b[j])
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
        ]
    if tag == "delete":
        return [DiffRow("removed", i + 1, a[i]) for i in range(i1, i2)]
    if tag == "insert":
        return [DiffRow("added", right_no=j + 1, right=b[j]) for j in range(j1, j2)]
    out = []
    for k in range(max(i2 - i1, j2 - j1)):
        i, j = i1 + k, j1 + k
        left = (i + 1, a[i]) if i < i2 else (None, "")
        right = (j + 1, b[j]) if j < j2 else (None, "")
        kind = "changed" if left[0] and right[0] else "removed" if left[0] else "added"
        out.append(DiffRow(kind, left[0], left[1], right[0], right[1]))
    return out


def _count_folds(rows: list[DiffRow], total: int) -> list[DiffRow]:
    """Each fold row with the number of unchanged lines it stands for; a fold at the end when
    lines are left after the last change."""
    out: list[DiffRow] = []
    last = 0  # the last left line number shown
    for index, row in enumerate(rows):
        if row.kind == "fold":
            following = next((r.left_no for r in rows[index + 1 :] if r.left_no), total + 1)
            out.append(DiffRow("fold", folded=following - last - 1))
            continue
        last = row.left_no or last
        out.append(row)
    if last < total:
        out.append(DiffRow("fold", folded=total - last))
    return [r for r in out if r.kind != "fold" or r.folded > 0]
