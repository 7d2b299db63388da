"""The audit trail's hash chain: pure functions, shared by the writer and the verifier."""
from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64


def canonical_detail(detail: dict | None) -> str:
    return json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(seq: int, entry_id: str, at: str, actor: str, action: str, target: str,
             detail: str, prev: str) -> str:
    """SHA-256 over every stored field of the row and the previous row's hash."""
    body = json.dumps([seq, entry_id, at, actor, action, target, detail, prev],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify_rows(rows: list[dict], head: tuple[int, str] | None) -> list[str]:
    """Problems in the chain ([] when intact). rows are ordered by seq; head is (seq, hash)
    from audit_head, which catches the newest rows being deleted."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(f"audit seq {seq}: expected seq {expected_seq} (rows removed or inserted)")
        if row["prev"] != prev:
            problems.append(f"audit seq {seq}: prev does not match the hash of the row before it "
                            "(that row was edited or removed)")
        actual = row_hash(seq, row["entry_id"], row["at"], row["actor"], row["action"], row["target"],
                          row["detail"], row["prev"])
        if actual != row["hash"]:
            problems.append(f"audit seq {seq}: contents do not match its hash (row edited)")
        prev = row["hash"]
        expected_seq = seq + 1
    if head is not None:
        head_seq, head_hash = head
        last_seq = rows[-1]["seq"] if rows else 0
        if head_seq != last_seq or head_hash != prev:
            problems.append(f"audit head records seq {head_seq} but the trail ends at seq {last_seq} "
                            "(newest rows removed or the head edited)")
    return problems
