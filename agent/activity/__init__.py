"""The activity log: every request to a catalog platform as one hash-chained JSON line.

Daily files by the district's local date, a writer thread so the proxy's event loop never
waits for the disk, `verify` to find edited/removed/inserted/reordered lines, `purge` for
retention (docs/interfaces.md; format in agent/activity/chain.py).
"""
from agent.activity.log import ActivityLog
from agent.activity.record import RECORD_KEYS, ActivityRecord
from agent.activity.purge import expired, purge
from agent.activity.verify import Problem, check, verify

__all__ = ["ActivityLog", "ActivityRecord", "RECORD_KEYS", "verify", "check", "Problem", "purge", "expired"]
