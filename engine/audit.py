"""The audit of the history (``qingliu audit verify``) and its checkpoints (``qingliu audit
checkpoint``).

``verify`` checks, with the ``history`` key (``engine.keys``):

- every case: events numbered 1..n, each linked to the one before, each hash recomputed
  (SHA-256: anyone can recompute it, the keyed link below cannot be); rows from before revision
  0005 (no global number) come first in their case; the case row points at its last event; a
  case has events; events have a case;
- the global chain (``engine/store/_chain.py``): every history row (case events and ledger
  changes) numbered 1..head without a gap, each link recomputed from the row before it, the
  first from the digest of the rows that predate the chain; the head's MAC, and that it points
  at the last row;
- every subject's changes numbered 1..n;
- with a checkpoint: its signature, and that the chain still holds the row it saw;
- every attachment the history names: its blob is in the store and hashes to its digest
  (``engine/blobs/audit.py``).

Every check streams its rows in big batches (``engine/store/_audit_reads.py``) and keeps only
what it reports, so memory stays flat over a history of millions of rows. So a chain
recomputed without the key, a deleted case, a rolled-back case and a case with no
events are each reported. Someone who holds the key and the database can still rewrite the
history and every link after the change; a checkpoint kept elsewhere (``--since``) catches that,
and a database restored whole to an older state (docs/security.md).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any

from engine.audit_checkpoint import Checkpoint
from engine.blobs.audit import _verdict, attachments_in
from engine.blobs.store import BlobStore
from engine.errors import ConfigError, QingliuError
from engine.keys import KeyRing
from engine.store._audit_reads import AuditEvent
from engine.store._chain import (
    GENESIS,
    HeadRow,
    SubjectEventRow,
    case_hash,
    genesis,
    head_mac,
    link,
    subject_digest,
)
from engine.store.repository import Store, Tx

__all__ = [
    "HISTORY_KEY",
    "AuditFailed",
    "Checkpoint",
    "Report",
    "checkpoint",
    "verify",
    "verify_store",
]

HISTORY_KEY = "history"  # the chain's key in the engine's KeyRing
_MANY = 10  # broken links reported one by one; the rest are counted
_DELETED = "deleted (a deleted case, the last events of a rolled-back case, or ledger history)"
# A row of the global chain: (gseq, ghash, its digest, what it is, its case id if it is an event);
# what it is as the parts of its label, put into words only when a problem names it.
_Link = tuple[int, "str | None", str, tuple[Any, ...], "int | None"]
_NOT_SEEN = object()


class AuditFailed(QingliuError):
    """The history does not verify: ``problems`` names each damage (a class of the error tree
    of ``engine.errors``, kept here beside the audit that raises it)."""

    status, kind, exit_code = 500, "audit-failed", 1
    title = "The history does not verify"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(self.problems)
        super().__init__(f"audit: FAILED: {len(self.problems)} problem(s) in the history:\n{lines}")

    def extensions(self) -> dict[str, Any]:
        return {"problems": self.problems}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    head: int = 0  # the global number at the head
    legacy: int = 0  # events from before the keyed chain (revision 0005)
    cases: int = 0


class _Audit:
    """One run of ``verify`` over one read transaction."""

    def __init__(
        self, tx: Tx, keys: KeyRing, want: int | None = None, blobs: BlobStore | None = None
    ) -> None:
        self.tx, self.keys, self.blobs = tx, keys, blobs
        self.report = Report()
        self.broken: set[int] = set()  # cases already reported
        self.explained = 0  # missing rows that a case's or a subject's own gap accounts for
        self._key: bytes | None = None
        # The checkpoint's global number (``want``): its link as the walk saw it, and the last
        # number walked, so the walk keeps no row.
        self.want, self.wanted, self.last_seen = want, _NOT_SEEN, 0
        self.blob_problems: list[str] = []
        self._verdicts: dict[str, str | None] = {}
        self._current: Sequence[Any] | None = None  # the case row the walk has reached

    def key(self) -> bytes:
        if self._key is None:
            path = self.keys.path(HISTORY_KEY)
            if not path.exists():
                raise ConfigError(
                    f"the history key {path} is missing: restore it from its backup "
                    "(QINGLIU_KEYS or the settings' keys folder); without it nothing verifies"
                )
            self._key = self.keys.get(HISTORY_KEY)
        return self._key

    def problem(self, sentence: str) -> None:
        self.report.problems.append(sentence)

    # -- each case ------------------------------------------------------------------------------

    def cases(self) -> None:
        """Every case's chain, walking the cases and their events side by side in id order
        (as the engine reads them: nothing kept but the cases reported)."""
        case_rows = iter(self.tx.case_last_hashes())
        silent: list[int] = []  # cases without events

        def case_row(case_id: float) -> str | None:
            """The last hash of case ``case_id``, None if it has no row: the cases before it
            have no events."""
            while self._current is not None and self._current[0] <= case_id:
                found, self._current = self._current, next(case_rows, None)
                self.report.cases += 1
                if found[0] == case_id:
                    return str(found[1])
                silent.append(int(found[0]))
            return None

        self._current = next(case_rows, None)
        for case_id, group in groupby(self.tx.audit_events(), key=attrgetter("case_id")):
            rows = list(group)
            if self.blobs is not None:
                self._attachments(rows)
            last_hash = case_row(case_id)
            if last_hash is None:
                self.problem(
                    f"case {case_id}: its case row is missing but {len(rows)} event(s) of it "
                    "remain (a deleted case)"
                )
                continue
            problem = self._case(rows)
            if problem is None and last_hash != rows[-1].hash:
                problem = f"case {case_id}: the last event is not the one the case points at"
            if problem:
                self.broken.add(case_id)
                self.problem(problem)
        case_row(float("inf"))
        for case_id in silent:
            self.problem(f"case {case_id}: has no history (every event of it was deleted)")

    def _case(self, rows: list[AuditEvent]) -> str | None:
        """The first broken row of one case, or None."""
        prev, keyed_before = GENESIS, False
        for expected, row in enumerate(rows, start=1):
            where = f"case {row.case_id} event {row.seq}"
            if row.seq != expected:
                if keyed_before and row.gseq is not None:
                    self.explained += row.seq - expected
                return f"case {row.case_id}: event {expected} is missing (found seq {row.seq})"
            if row.prev_hash != prev:
                return f"{where}: prev_hash does not match event {row.seq - 1}"
            if case_hash(prev, row.body) != row.hash:
                return f"{where}: content does not match its hash"
            if row.gseq is not None:
                keyed_before = True
            elif keyed_before:
                return f"{where}: has no global number: it was written outside the engine"
            else:
                self.report.legacy += 1
            prev = row.hash
        return None

    def _attachments(self, rows: list[AuditEvent]) -> None:
        """Every attachment the rows name: its blob is in the store and hashes to its digest
        (``engine/blobs/audit.py``; each blob read once)."""
        assert self.blobs is not None
        for row in rows:
            if '"sha256"' not in row.body:  # no attachment value in its payload or patch
                continue
            for digest in dict.fromkeys(attachments_in([row.payload, row.patch])):
                if digest not in self._verdicts:
                    self._verdicts[digest] = _verdict(self.blobs, digest)
                if self._verdicts[digest] is not None:
                    self.blob_problems.append(
                        f"case {row.case_id} event {row.seq}: attachment {digest} "
                        f"{self._verdicts[digest]}"
                    )

    # -- subjects' own numbering ------------------------------------------------------------------

    def subjects(self) -> None:
        for (kind, key), group in groupby(self.tx.subject_numbers(), key=itemgetter(0, 1)):
            for expected, (_, _, seq) in enumerate(group, start=1):
                if seq != expected:
                    self.explained += seq - expected
                    self.problem(f"{kind} {key}: change {expected} is missing (found {seq})")
                    break

    # -- the global chain -------------------------------------------------------------------------

    def chain(self, head: HeadRow | None) -> None:
        if head is None:
            self.problem("history: the head row (table history_head) is missing")
        changes = _subject_links(self.tx.subject_links())
        rows = heapq.merge(self._event_links(), changes, key=itemgetter(0))
        last, last_hash, gaps = self._walk(rows)
        if sum(b - a + 1 for a, b in gaps) != self.explained:
            for a, b in gaps:
                which = f"event {a} is" if a == b else f"events {a}-{b} are"
                self.problem(f"history: global {which} missing: {_DELETED}")
        if head is not None:
            self._head(head, last, last_hash)

    def _walk(self, rows: Iterator[_Link]) -> tuple[int, str | None, list[tuple[int, int]]]:
        """Every row in global order, each link recomputed: (the last number, its link, the
        gaps)."""
        expected, prev, last_hash = 1, "", None
        gaps: list[tuple[int, int]] = []
        unlinked = 0
        for gseq, ghash, digest, label, case_id in rows:
            if gseq == 1:  # the keyed chain starts from the rows that predate it
                prev = genesis(self.key(), self.tx.legacy_digest())
            if gseq < expected:
                self.problem(f"history: global event {gseq} appears twice ({_label(label)})")
                continue
            if gseq > expected:  # its link cannot be checked: its predecessor is gone
                gaps.append((expected, gseq - 1))
            elif ghash != link(self.key(), gseq, prev, digest) and case_id not in self.broken:
                unlinked += 1
                if case_id is not None:
                    self.broken.add(case_id)  # the first of its rows names the case
                if unlinked <= _MANY:
                    self.problem(_unlinked(gseq, _label(label)))
            if gseq == self.want:
                self.wanted = ghash
            self.last_seen = gseq
            prev, last_hash, expected = ghash or "", ghash, gseq + 1
        if unlinked > _MANY:
            self.problem(f"history: {unlinked - _MANY} more global events do not chain")
        return expected - 1, last_hash, gaps

    def _event_links(self) -> Iterator[_Link]:
        for gseq, ghash, hash_, case_id, seq in self.tx.event_links():
            yield gseq, ghash, hash_, ("case", case_id, "event", seq), case_id

    def _head(self, head: HeadRow, last: int, last_hash: str | None) -> None:
        self.report.head = head.gseq
        if head.gseq > 0 and head.mac != head_mac(self.key(), head.gseq, head.hash or ""):
            self.problem(
                f"history: the head (global event {head.gseq}) is not signed by the key: "
                "it was rewritten"
            )
        if last < head.gseq:
            which = f"events {last + 1}-{head.gseq} are"
            if last + 1 == head.gseq:
                which = f"event {head.gseq} is"
            self.problem(
                f"history: the last global {which} missing (the head records {head.gseq}, "
                f"the history ends at {last}): {_DELETED}"
            )
        elif last == head.gseq and head.gseq > 0 and last_hash != head.hash:
            self.problem(f"history: the head does not point at global event {head.gseq}")
        # Rows beyond the head are writes committed after it was read; their links are checked.

    # -- a checkpoint -----------------------------------------------------------------------------

    def since(self, mark: Checkpoint) -> None:
        when = mark.at.isoformat()
        if mark.signature != Checkpoint.sign(self.key(), mark.gseq, mark.hash, mark.at):
            self.problem(
                f"checkpoint of {when}: its signature does not verify with this key "
                "(forged, edited, or made with another key)"
            )
            return
        seen: object = None
        if mark.gseq == 0:
            seen = genesis(self.key(), self.tx.legacy_digest())
        elif self.wanted is not _NOT_SEEN and mark.gseq == self.want:
            seen = self.wanted
        else:
            ends = self.last_seen
            if ends < mark.gseq:
                self.problem(
                    f"checkpoint of {when}: it saw global event {mark.gseq}, the history now "
                    f"ends at {ends}: it was rolled back"
                )
            else:
                self.problem(f"checkpoint of {when}: global event {mark.gseq} is missing")
            return
        if seen != mark.hash:
            self.problem(
                f"checkpoint of {when}: global event {mark.gseq} is not the one it saw: the "
                "history at or before it was rewritten"
            )


def _unlinked(gseq: int, label: str) -> str:
    if gseq == 1:
        return (
            f"history: global event 1 ({label}) does not chain from the start of the keyed "
            "chain: the history from before it (revision 0005) changed, or this is not the key "
            "that wrote it"
        )
    return (
        f"history: global event {gseq} ({label}) does not match its keyed link: it was "
        "rewritten without the key"
    )


def _label(parts: tuple[Any, ...]) -> str:
    return " ".join(str(p) for p in parts)


def _subject_links(changes: Iterable[SubjectEventRow]) -> Iterator[_Link]:
    for c in changes:
        label = (c.subject_kind, c.subject_key, "change", c.seq)
        yield c.gseq, c.ghash, subject_digest(c.__dict__), label, None


def verify(
    tx: Tx, keys: KeyRing, since: Checkpoint | None = None, blobs: BlobStore | None = None
) -> Report:
    """Every check of the module docstring, in ``tx``: the report's ``problems`` name each
    damage (case by case first, then the global chain, then the blobs), empty when sound."""
    audit = _Audit(tx, keys, since.gseq if since is not None else None, blobs)
    audit.cases()
    audit.subjects()
    head = tx.history_head()
    audit.chain(head)
    if since is not None:
        audit.since(since)
    audit.report.problems.extend(audit.blob_problems)
    return audit.report


def verify_store(
    store: Store, keys: KeyRing, since: Checkpoint | None = None, blobs: BlobStore | None = None
) -> Report:
    """``verify`` in one snapshot of the database (so concurrent writes do not show half)."""
    with store.snapshot() as tx:
        return verify(tx, keys, since, blobs)


def checkpoint(store: Store, keys: KeyRing, now: Callable[[], datetime]) -> Checkpoint:
    """The head of the chain, signed, after verifying the whole history (a checkpoint of a
    damaged history would vouch for the damage): ``AuditFailed`` if it does not verify."""
    with store.snapshot() as tx:
        report = verify(tx, keys)
        if report.problems:
            raise AuditFailed(report.problems)
        head = tx.history_head()
        assert head is not None  # verify reports a missing head
        key = keys.get(HISTORY_KEY)
        hash_ = head.hash if head.gseq and head.hash else genesis(key, tx.legacy_digest())
        at = now()
        return Checkpoint(head.gseq, hash_, at, Checkpoint.sign(key, head.gseq, hash_, at))
