"""The public 随手拍 form's rows (mixed into ``Tx``): receipt codes (their keyed hash only) to
cases, the reports accepted per client address (a keyed hash) for the rate limits, and the
proof-of-work challenges solved, each usable once (``handlers.public``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select

from engine.store._records import insert_once
from engine.store.tables import public_challenges, public_receipts, public_report_hits

__all__ = ["PublicQueries"]

# The first key of the advisory locks of report addresses (PostgreSQL): "qlRA".
_ADDRESS_LOCKS = 0x716C5241


class PublicQueries:
    conn: Connection

    # -- receipts -----------------------------------------------------------------------------

    def insert_receipt(self, receipt_hash: str, case_id: int, now: datetime) -> None:
        values = {"receipt_hash": receipt_hash, "case_id": case_id, "created_at": now}
        self.conn.execute(insert(public_receipts).values(**values))

    def receipt_case(self, receipt_hash: str) -> int | None:
        t = public_receipts
        found = self.conn.execute(select(t.c.case_id).where(t.c.receipt_hash == receipt_hash))
        value = found.scalar()
        return None if value is None else int(value)

    # -- reports per address ------------------------------------------------------------------

    def lock_report_address(self, address_hash: str) -> None:
        """Hold ``address_hash``'s lock until the transaction ends, so that two reports from
        one address count and insert one after the other: on PostgreSQL a transaction-level
        advisory lock (two keys: this class of lock, and 31 bits of the hash), under READ
        COMMITTED the count would not see the other's uncommitted hit; SQLite's write
        transactions (``BEGIN IMMEDIATE``) are serialised already."""
        if self.conn.dialect.name == "postgresql":
            bits = int(address_hash[:8], 16) & 0x7FFFFFFF
            self.conn.execute(select(func.pg_advisory_xact_lock(_ADDRESS_LOCKS, bits)))

    def report_hits(self, address_hash: str, since: datetime) -> tuple[int, datetime | None]:
        """How many reports ``address_hash`` filed since ``since``, and the oldest of them."""
        t = public_report_hits
        row = self.conn.execute(
            select(func.count(), func.min(t.c.at)).where(
                t.c.address_hash == address_hash, t.c.at > since
            )
        ).one()
        return int(row[0]), row[1]

    def insert_report_hit(self, address_hash: str, at: datetime) -> int:
        found = self.conn.execute(
            insert(public_report_hits).values(address_hash=address_hash, at=at)
        ).inserted_primary_key
        assert found is not None
        return int(found[0])

    def delete_report_hit(self, hit_id: int) -> None:
        self.conn.execute(delete(public_report_hits).where(public_report_hits.c.id == hit_id))

    def forget_report_hits(self, before: datetime) -> None:
        """Drop the hits no limit counts any more."""
        self.conn.execute(delete(public_report_hits).where(public_report_hits.c.at <= before))

    # -- challenges ---------------------------------------------------------------------------

    def use_challenge(self, digest: str, expires_at: datetime, now: datetime) -> bool:
        """Record a solved challenge; False when it was used before. Expired ones are dropped
        (a challenge is refused past its expiry anyway)."""
        t = public_challenges
        self.conn.execute(delete(t).where(t.c.expires_at < now))
        return insert_once(self.conn, t, {"digest": digest, "expires_at": expires_at}) is not None
