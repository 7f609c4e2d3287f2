"""The database schema: every table the governance package keeps, in one place.

Declarations only; queries live with the noun they serve (store.py for sealed records
and data keys, ledger.py for the audit ledger). Times are integer microseconds since the
epoch so a value bound into associated data or hashed into a ledger entry survives the
database unchanged, whatever its timestamp precision.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "CheckpointRow",
    "DataKeyRow",
    "LedgerEntryRow",
    "LedgerNodeRow",
    "LedgerStateRow",
    "RecordRow",
    "SchemaVersion",
    "ShreddedBucketRow",
    "SweeperLeaseRow",
]


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class DataKeyRow(Base):
    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("tenant", "retention_class", "bucket", "generation"),)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128))
    retention_class: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(16))
    generation: Mapped[int] = mapped_column(Integer)
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    created_us: Mapped[int] = mapped_column(BigInteger)
    destroyed_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecordRow(Base):
    __tablename__ = "log_records"
    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    retention_class: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    created_us: Mapped[int] = mapped_column(BigInteger, index=True)
    expires_us: Mapped[int] = mapped_column(BigInteger, index=True)
    # The database's clock at commit (records given a `keep`): expiry = written + keep.
    # Not indexed: only the sweeper's rare min() reads it, and every insert would pay.
    written_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.key_id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    subject_token: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class LedgerStateRow(Base):
    """One row (id 1): the tree's size, root and compact range. Every append locks it."""

    __tablename__ = "ledger_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    compact: Mapped[bytes] = mapped_column(LargeBinary)  # popcount(size) hashes, largest first


class LedgerEntryRow(Base):
    """An entry exactly as hashed and exported; seq is its leaf index, never a sequence."""

    __tablename__ = "ledger_entries"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    appended_us: Mapped[int] = mapped_column(BigInteger, index=True)
    # NULL once pruned under retention.ledger_keep; the leaf hash stays, so every proof
    # and root is unchanged and later entries still verify.
    entry: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary, index=True)  # proofs by hash


class LedgerNodeRow(Base):
    """A complete (perfect) interior subtree: node_id = index << 6 | level, level >= 1."""

    __tablename__ = "ledger_nodes"
    node_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class CheckpointRow(Base):
    """A checkpoint the ledger signed, as the signed note text."""

    __tablename__ = "ledger_checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(String(4096))
    signed_us: Mapped[int] = mapped_column(BigInteger)


class SweeperLeaseRow(Base):
    """One row (id 1): which process sweeps, until when. Taken and renewed inside short
    transactions (no session-level lock, so it works behind PgBouncer)."""

    __tablename__ = "sweeper_lease"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    until_us: Mapped[int] = mapped_column(BigInteger)


class ShreddedBucketRow(Base):
    """A bucket the sweeper shredded: no data key is ever made for it again, and its
    secret outside the database is destroyed (again, idempotently) on every sweep."""

    __tablename__ = "shredded_buckets"
    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    retention_class: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    shredded_us: Mapped[int] = mapped_column(BigInteger)
