"""The tables. Times are stored as naive UTC on every backend (``UTCDateTime`` converts)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from engine.store.types import UTCDateTime, dumps

__all__ = [
    "UTCDateTime",
    "api_tokens",
    "attachments",
    "case_parties",
    "cases",
    "definitions",
    "dumps",
    "events",
    "history_head",
    "idempotency_keys",
    "metadata",
    "public_challenges",
    "public_receipts",
    "public_report_hits",
    "subject_events",
    "subjects",
    "timers",
    "user_idempotency_keys",
    "user_sessions",
    "users",
]


Json = JSON().with_variant(JSONB(), "postgresql")
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

definitions = Table(
    "definitions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("source", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Where the version came from (revision 0006): "file" with the file's path, or "api" with
    # the admin's name; NULL on versions published before, which count as files.
    Column("origin", String(8)),
    Column("origin_ref", String(400)),
    UniqueConstraint("name", "version", name="uq_definitions_name_version"),
)

# A business key among open cases where the definition says one_open_case_per_subject (0012)
OPEN_UNIQUE_SUBJECT = "is_open AND subject IS NOT NULL AND subject_unique"
cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("definition_id", Id, ForeignKey("definitions.id"), nullable=False),
    Column("workflow", String(64), nullable=False),
    Column("workflow_version", Integer, nullable=False),
    Column("state", String(64), nullable=False),
    Column("data", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("subject", String(200)),
    Column("jurisdiction", String(64)),
    Column("is_open", Boolean, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("subject_unique", Boolean, nullable=False, server_default=true()),
    Index("ix_cases_workflow_state", "workflow", "state"),
    Index("ix_cases_jurisdiction", "jurisdiction"),
    # The open case of a workflow about a subject (Tx.open_case_for_subject; revision 0014).
    Index("ix_cases_workflow_subject", "workflow", "subject"),
    # The work list (revision 0008): its (version, state) pairs, counted from the index.
    Index("ix_cases_definition_state", "definition_id", "state", "jurisdiction", "is_open"),
    Index(
        "uq_cases_open_subject",
        "workflow",
        "jurisdiction",
        "subject",
        unique=True,
        sqlite_where=text(OPEN_UNIQUE_SUBJECT),
        postgresql_where=text(OPEN_UNIQUE_SUBJECT),
    ),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("trigger", String(64)),
    Column("transition", Integer),
    Column("from_state", String(64)),
    Column("to_state", String(64)),
    Column("actor", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("jurisdiction", String(64)),
    Column("payload", Json, nullable=False),
    Column("patch", Json, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The keyed global chain (engine/store/_chain.py): the event's number in the one sequence
    # of every history row, and its link; NULL on rows written before revision 0005. Numbers
    # are given under the chain's head, so they rise with ``id`` (no index to keep per insert).
    Column("gseq", BigInteger),
    Column("ghash", String(64)),
    UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
)

# Changes to subjects (outfall records) as history rows, in the same global chain as events.
subject_events = Table(
    "subject_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_kind", String(32), nullable=False),
    Column("subject_key", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("change", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("jurisdiction", String(64)),
    Column("patch", Json, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("gseq", BigInteger, nullable=False),
    Column("ghash", String(64), nullable=False),
    UniqueConstraint("subject_kind", "subject_key", "seq", name="uq_subject_events_seq"),
    Index("uq_subject_events_gseq", "gseq", unique=True),
)

# The one row (id 1) at the end of the global chain: its latest number, link and their MAC.
history_head = Table(
    "history_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("gseq", BigInteger, nullable=False),
    Column("hash", String(64)),
    Column("mac", String(64)),
    Column("updated_at", UTCDateTime),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("state", String(64)),
    Column("deadline", String(64)),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("payload", Json, nullable=False),
    Column("catch_up", String(8), nullable=False),
    Column("every", String(32)),
    Column("provisional", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime),
    # What the due time was computed from, so a provisional one can be recomputed.
    Column("base_at", UTCDateTime),
    Column("duration", String(32)),
    # A paused deadline keeps its remaining time here (working days or seconds).
    Column("remaining_seconds", BigInteger),
    Column("remaining_working_days", Integer),
    Index("ix_timers_status_due", "status", "due_at"),
    # A case's timers by status, and the earliest due time of its pending ones (revision 0008).
    Index("ix_timers_case_due", "case_id", "status", "due_at"),
    # The work list walks the running timers in due order to their cases (revision 0009).
    Index("ix_timers_status_due_case", "status", "due_at", "case_id"),
    # The sweep reads only pending rows in due order: its cost follows the due timers.
    Index(
        "ix_timers_pending_due",
        "due_at",
        "id",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_timers_provisional",
        "due_at",
        sqlite_where=text("provisional = 1 AND status = 'pending'"),
        postgresql_where=text("provisional AND status = 'pending'"),
    ),
)

# Who a case is about, outside government: the party role that opened it and the names its
# definition's party fields hold (engine.access: a party reads only the cases it is party to).
case_parties = Table(
    "case_parties",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id"), primary_key=True),
    Column("party", String(200), primary_key=True),
    Column("relation", String(16), nullable=False),  # opened | named
    Index("ix_case_parties_party", "party", "case_id"),
)

subjects = Table(
    "subjects",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("jurisdiction", String(64)),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# HTTP API bearer tokens: only the SHA-256 of a token is stored.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(64), nullable=False),
    Column("jurisdiction", String(64)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
)

# First responses to requests sent with an Idempotency-Key, per token; written in the same
# transaction as the change they record.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_id", Id, ForeignKey("api_tokens.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),
)

# People who sign in to the console (engine/console): the password's argon2id hash only.
# failed_logins counts refusals since the last success; locked_until ends a lock-out.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("jurisdiction", String(64)),
    Column("password_hash", String(200), nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
)

# Console sessions: the SHA-256 of the cookie's secret, the form token (CSRF) and when the
# session was last used (idle time-out) and must end (absolute lifetime).
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("session_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("address", String(64)),
)

# First responses to console submissions, per user, as idempotency_keys keeps them per token.
user_idempotency_keys = Table(
    "user_idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "key", name="uq_user_idempotency_user_key"),
)

# 随手拍 (handlers/public): a receipt code's keyed hash -> its case; the reports accepted per
# client address (a keyed hash: an address is personal data), counted for the rate limits; the
# challenges solved, each once, kept until they expire.
public_receipts = Table(
    "public_receipts",
    metadata,
    Column("receipt_hash", String(64), primary_key=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)
public_report_hits = Table(
    "public_report_hits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_public_report_hits_address_at", "address_hash", "at"),
)
public_challenges = Table(
    "public_challenges",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Files uploaded as attachments (engine/blobs): one row per upload, the bytes in the blob store
# under their SHA-256. case_id is None for an upload made before its case was opened (then it
# counts for the actor who made it). media_type is what the bytes are (sniffed), never what the
# client said.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("media_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("workflow", String(64), nullable=False),
    Column("field", String(200), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id"), index=True),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_role", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
