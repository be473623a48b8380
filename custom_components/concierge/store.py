"""Persistence: grants and visits in Home Assistant storage, the audit chain in a JSON-lines file.

Grants and visits live in one versioned `Store` per site (with migrations). The audit
chain is append-only: each access event is one line, flushed and synced to disk before
the event counts as recorded. The chain's head (last hash and count) is also kept in
the `Store`, so that a log cut short at its end is detected too.
"""

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, override

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .core.audit import AuditRecord, append, from_json_line, to_json_line
from .core.events import AccessEvent
from .core.grants import Grant, GrantState
from .core.slots import KnownSlot
from .core.visits import Visit

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 4
MAX_FINISHED_VISITS = 200


@dataclass(slots=True)
class LockCodes:
    """What Concierge knows of one lock's keypad slots (never a PIN)."""

    known: dict[int, KnownSlot] = field(default_factory=dict)
    assignments: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    """Grant → fingerprint of the PIN the lock refused (retried only when it changes)."""

    def to_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "known": {str(k): v.to_dict() for k, v in self.known.items()},
            "assignments": dict(self.assignments),
            "rejected": dict(self.rejected),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockCodes:
        """Rebuild from `to_dict` output."""
        return cls(
            known={int(k): KnownSlot.from_dict(v) for k, v in data.get("known", {}).items()},
            assignments={str(k): int(v) for k, v in data.get("assignments", {}).items()},
            rejected={str(k): str(v) for k, v in data.get("rejected", {}).items()},
        )


@dataclass(slots=True)
class SiteData:
    """Everything a site keeps across restarts (the audit chain aside)."""

    grants: dict[str, Grant] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    grant_states: dict[str, GrantState] = field(default_factory=dict)
    audit_head: str | None = None
    audit_count: int = 0
    keypad: dict[str, LockCodes] = field(default_factory=dict)
    """Lock entity id → its keypad slots."""
    lock_on_close: set[str] = field(default_factory=set)
    """Portals whose door was left open after a visit ended: lock them when it closes."""
    replay: dict[str, Any] = field(default_factory=dict)
    """The courier replay cache (`ReplayCache.to_dict()`): used token ids, hashed."""
    link_secret: str | None = field(default=None, repr=False)
    """The site's key for signing guest links (hex; never shown)."""
    guest_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Guest link id → {grant, expires, revoked} (never the link itself)."""


class SiteStore(Store[dict[str, Any]]):
    """The versioned storage of one site, with migrations."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring stored data up to the current version."""
        data = dict(old_data)
        if old_major_version == 1 and old_minor_version < 2:  # noqa: PLR2004
            # 1.1 kept no last-known grant states; start from "unknown" (none recorded).
            data.setdefault("grant_states", {})
            data.setdefault("audit", {"head": None, "count": 0})
        if old_major_version == 1 and old_minor_version < 3:  # noqa: PLR2004
            # 1.3 remembers what each lock's keypad slots hold.
            data.setdefault("keypad", {})
        if old_major_version == 1 and old_minor_version < 4:  # noqa: PLR2004
            # 1.4 adds in-home delivery: doors to lock on close, used courier tokens
            # and guest links.
            data.setdefault("lock_on_close", [])
            data.setdefault("replay", {})
            data.setdefault("link_secret", None)
            data.setdefault("guest_links", {})
        return data


def storage_key(entry_id: str) -> str:
    """Storage key of a site."""
    return f"{DOMAIN}.{entry_id}"


def site_store(hass: HomeAssistant, entry_id: str) -> SiteStore:
    """Open a site's store."""
    return SiteStore(
        hass,
        STORAGE_VERSION,
        storage_key(entry_id),
        minor_version=STORAGE_MINOR_VERSION,
        atomic_writes=True,
    )


def decode(raw: dict[str, Any] | None) -> SiteData:
    """Read stored data (already migrated)."""
    if raw is None:
        return SiteData()
    grants = [Grant.from_dict(g) for g in raw.get("grants", [])]
    visits = [Visit.from_dict(v) for v in raw.get("visits", [])]
    audit = raw.get("audit", {})
    return SiteData(
        grants={g.id: g for g in grants},
        visits={v.id: v for v in visits},
        grant_states={k: GrantState(v) for k, v in raw.get("grant_states", {}).items()},
        audit_head=audit.get("head"),
        audit_count=int(audit.get("count", 0)),
        keypad={k: LockCodes.from_dict(v) for k, v in raw.get("keypad", {}).items()},
        lock_on_close={str(p) for p in raw.get("lock_on_close", [])},
        replay=dict(raw.get("replay") or {}),
        link_secret=raw.get("link_secret"),
        guest_links={str(k): dict(v) for k, v in (raw.get("guest_links") or {}).items()},
    )


def encode(data: SiteData) -> dict[str, Any]:
    """Build the stored form. Only the newest finished visits are kept."""
    open_visits = [v for v in data.visits.values() if v.ended_at is None]
    finished = sorted(
        (v for v in data.visits.values() if v.ended_at is not None),
        key=lambda v: v.started_at,
    )[-MAX_FINISHED_VISITS:]
    return {
        "grants": [g.to_dict() for g in data.grants.values()],
        "visits": [v.to_dict() for v in (*open_visits, *finished)],
        "grant_states": {k: v.value for k, v in data.grant_states.items()},
        "audit": {"head": data.audit_head, "count": data.audit_count},
        "keypad": {k: v.to_dict() for k, v in data.keypad.items()},
        "lock_on_close": sorted(data.lock_on_close),
        "replay": data.replay,
        "link_secret": data.link_secret,
        "guest_links": data.guest_links,
    }


class AuditLog:
    """The append-only, hash-chained log of a site's access events."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the log file under Home Assistant's storage folder."""
        self._hass = hass
        self.path = Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.audit.jsonl"))
        self._last: AuditRecord | None = None
        # Events arrive from concurrent tasks (a door sensor and a lock in the same second);
        # each must chain onto the one written before it, in the order they are written.
        self._lock = asyncio.Lock()

    async def async_load(self) -> list[AuditRecord]:
        """Read every record, remembering the last one to chain onto."""
        records = await self._hass.async_add_executor_job(self._read)
        self._last = records[-1] if records else None
        return records

    async def async_read(self) -> list[AuditRecord]:
        """Read every record (for verification and export); the chain's end is untouched.

        Waits for a write in progress, so the records read end where the chain ends.
        """
        async with self._lock:
            return await self._hass.async_add_executor_job(self._read)

    def _read(self) -> list[AuditRecord]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [from_json_line(line) for line in handle if line.strip()]

    async def async_append(self, event: AccessEvent) -> AuditRecord:
        """Chain an event onto the log and write it durably."""
        async with self._lock:
            record = append(self._last, event)
            await self._hass.async_add_executor_job(self._write, to_json_line(record))
            self._last = record
            return record

    def _write(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def head(self) -> str | None:
        """The hash of the newest record."""
        return self._last.hash if self._last else None

    @property
    def count(self) -> int:
        """How many records the log holds."""
        return self._last.seq if self._last else 0

    async def async_remove(self) -> None:
        """Delete the log (when the site is deleted)."""
        await self._hass.async_add_executor_job(self.path.unlink, True)  # noqa: FBT003
