"""The ledger: every signed output appended to a hash-chained JSON-lines file.

Each record holds the hash of the record before it, so editing or deleting a record breaks
the chain; a signed head file (record count and last hash) catches deleting the newest ones.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .canonical import canonical_json, loads_strict, sha256_hex
from .keys import public_key, sign, signature_valid
from .home import studio_home

LEDGER_NAME = "ledger.jsonl"
HEAD_NAME = "ledger-head.json"
GENESIS = "0" * 64
_lock = threading.Lock()

try:  # one writer at a time across processes too, where the platform allows it
    import fcntl
except ImportError:  # Windows
    fcntl = None


def ledger_path() -> Path:
    return studio_home() / LEDGER_NAME


def record_hash(record: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({k: v for k, v in record.items() if k != "hash"}))


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _write_head(count: int, last: str) -> None:
    head = {"count": count, "hash": last}
    signature, key = sign(canonical_json(head))
    (studio_home() / HEAD_NAME).write_text(json.dumps({**head, "signature": signature, "public_key": key}) + "\n", encoding="utf-8")


def _tail(f) -> tuple[int, str]:
    """(number of records, hash to chain on) from the end of the open ledger file."""
    size = f.seek(0, 2)
    f.seek(max(0, size - (1 << 16)))
    lines = [line for line in f.read().splitlines() if line.strip()]
    if not lines:
        return 0, GENESIS
    try:
        last = loads_strict(lines[-1])
        return int(last["seq"]) + 1, str(last["hash"])
    except (ValueError, KeyError, TypeError):  # a damaged last record: count from the start
        f.seek(0)
        count = sum(1 for line in f.read().splitlines() if line.strip())
        return count, sha256_hex(lines[-1].encode("utf-8"))


def append(manifest: dict[str, Any]) -> dict[str, Any]:
    """Add a record for one signed output; returns the record."""
    return append_many([manifest])[0]


def append_many(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a record for each signed output, under one lock and with one head update."""
    records = []
    with _lock, open(ledger_path(), "a+", encoding="utf-8") as f:
        if fcntl:
            fcntl.flock(f, fcntl.LOCK_EX)
        count, prev = _tail(f)
        for manifest in manifests:
            record = {
                "seq": count,
                "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "content_id": manifest["content_id"],
                "content_sha256": manifest["content_sha256"],
                "media": manifest["media"],
                "model": manifest["model"].get("name"),
                "manifest_sha256": sha256_hex(canonical_json(manifest)),
                "prev": prev,
            }
            record["hash"] = prev = record_hash(record)
            records.append(record)
            count += 1
        f.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
        f.flush()
        _write_head(count, prev)
    return records


@dataclass
class LedgerReport:
    records: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger() -> LedgerReport:
    """Walk the chain; every broken link, edited record or missing record is a problem."""
    lines = [line for line in _read_lines(ledger_path()) if line.strip()]
    problems, prev = [], GENESIS
    for i, line in enumerate(lines):
        try:
            record = loads_strict(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            problems.append(f"line {i + 1}: not a JSON record")
            prev = None
            continue
        if record.get("seq") != i:
            problems.append(f"line {i + 1}: sequence number {record.get('seq')!r}, expected {i} (a record was deleted or moved)")
        if prev is not None and record.get("prev") != prev:
            problems.append(f"line {i + 1}: does not follow the record before it (a record was deleted, inserted or edited)")
        if record.get("hash") != record_hash(record):
            problems.append(f"line {i + 1}: its content does not match its hash (the record was edited)")
        prev = record.get("hash")
    head_path = studio_home() / HEAD_NAME
    if lines or head_path.exists():
        try:
            head = loads_strict(head_path.read_text(encoding="utf-8"))
            signed = canonical_json({"count": head["count"], "hash": head["hash"]})
            if head.get("public_key") != public_key() or not signature_valid(signed, head["signature"], head["public_key"]):
                problems.append("the ledger head is not signed by this studio")
            elif head["count"] != len(lines) or head["hash"] != prev:
                problems.append(f"the ledger head records {head['count']} records ending in {head['hash'][:12]}…, "
                                f"the file has {len(lines)} (records at the end were deleted or added)")
        except (OSError, ValueError, KeyError, TypeError):
            problems.append("the ledger head file is missing or unreadable")
    return LedgerReport(len(lines), problems)


def find(content_sha256: str, content_id: str | None = None) -> dict[str, Any] | None:
    """The ledger record of this content (and content id, when given), or None."""
    for line in reversed(_read_lines(ledger_path())):
        try:
            record = loads_strict(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("content_sha256") == content_sha256 and content_id in (None, record.get("content_id")):
            return record
    return None
