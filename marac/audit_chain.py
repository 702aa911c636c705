"""The audit chain's hash: a fixed, canonical form of an entry, hashed with SHA-256.

Pure Python on purpose (the migration that sealed the entries written before the chain uses it
too). The form must never change once entries are sealed with it: a new form would need a new
version prefix and verification that knows both.

entry_hash = SHA-256 of the UTF-8 JSON (keys sorted, no spaces) of
    {"v": 1, "seq", "at" (UTC, microseconds, "Z"), "user_id", "agency_id", "action",
     "object_type", "object_id", "detail", "remote_addr", "prev"}
where "prev" is the previous entry's hash, and GENESIS for the first entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64
FORMAT_VERSION = 1


class Sealable(Protocol):
    seq: Any
    at: Any
    user_id: Any
    agency_id: Any
    action: Any
    object_type: Any
    object_id: Any
    detail: Any
    remote_addr: Any


def canonical_time(moment: datetime) -> str:
    # SQLite returns stored times without a zone; they were written in UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Sealable, prev_hash: str) -> bytes:
    fields = {
        "v": FORMAT_VERSION,
        "seq": entry.seq,
        "at": canonical_time(entry.at),
        "user_id": entry.user_id,
        "agency_id": entry.agency_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": entry.detail,
        "remote_addr": entry.remote_addr,
        "prev": prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Sealable, prev_hash: str) -> str:
    return hashlib.sha256(canonical(entry, prev_hash)).hexdigest()


@dataclass
class Verification:
    checked: int = 0
    head_hash: str = GENESIS
    problems: list[str] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(entries: Iterable[Any], head_length: int | None, head_hash: str | None) -> Verification:
    """Walks the chain in ``seq`` order. Entries must come sorted by seq, unsealed ones last.

    Finds: an edited entry (its hash no longer matches its fields), a deleted entry (a gap in
    seq and a broken link to the next), a re-ordered or inserted one (a broken link), entries
    cut off the end (the head says the chain was longer), and entries never sealed.
    """
    result = Verification(problems=[])
    problems = result.problems
    assert problems is not None
    expected_seq, prev = 1, GENESIS
    for entry in entries:
        if entry.seq is None or entry.entry_hash is None:
            problems.append(f"entry id {entry.id} was never sealed into the chain")
            continue
        if entry.seq != expected_seq:
            problems.append(
                f"entry {expected_seq}"
                + (f" to {entry.seq - 1}" if entry.seq - 1 > expected_seq else "")
                + " missing (deleted?)"
            )
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq} does not follow the entry before it")
        if entry_hash(entry, entry.prev_hash or "") != entry.entry_hash:
            problems.append(f"entry {entry.seq} was changed after it was written")
        prev = entry.entry_hash
        expected_seq = entry.seq + 1
        result.checked += 1
    result.head_hash = prev
    length = expected_seq - 1
    if head_length is not None and head_hash is not None:
        if head_length != length or head_hash != prev:
            problems.append(
                f"the chain's head says {head_length} entries ending {head_hash[:12]}, "
                f"found {length} ending {prev[:12]} (entries cut off the end?)"
            )
    elif length:
        problems.append("the chain's head is missing")
    return result
