"""Persistence: grants and visits in Home Assistant storage, the audit chain in a JSON-lines file.

Grants and visits live in one versioned `Store` per site (with migrations). Once a
site's data has been read and found good, every successful write of it is followed by a
write of the same data to a second `Store`, the site's last good copy
(`concierge.<entry>.backup`): a start that finds the main file damaged falls back to it
(`store_recovery`).

The audit chain lives in its own JSON-lines file (`audit_log.py`); its head (last hash
and sequence number) is also kept in the `Store`, so that records lost from the log's
end are detected (and declared by a gap record) at the next start.

PINs: the data holds the PIN of each grant that may still use it (scheduled, active,
suspended); a grant that is over (revoked, expired, used up) keeps none
(`grant_keeper.py` erases it, and migration 1.6 erased those kept before). Slots hold
only keyed fingerprints, whose key is in a file of its own (`fingerprint_key.py`).
"""

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, override

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.fingerprints import lock_key, rederive
from .core.grant_decode import grant_from_stored, state_from_stored
from .core.grants import TERMINAL_STATES, Grant, GrantState
from .core.slots import KnownSlot
from .core.visits import Visit
from .fingerprint_key import key_store, new_key

COPY_SAVED_AT = "copy_saved_at"
"""Key of the time a copy was written, in the copy's data (the main data never has it)."""
STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 6
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
    alarm_hold: str | None = None
    """The armed mode to restore when the last of several overlapping visits ends."""
    replay: dict[str, Any] = field(default_factory=dict)
    """The courier replay cache (`ReplayCache.to_dict()`): used token ids, hashed."""
    link_secret: str | None = field(default=None, repr=False)
    """The site's key for signing guest links (hex; never shown)."""
    guest_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Guest link id → {grant, expires, revoked} (never the link itself)."""
    clock_mark: datetime | None = None
    """The last site time (`core.clock`): a start with the wall clock behind it uses it."""
    code_key: bytes = field(default_factory=new_key, repr=False)
    """The key of the slots' PIN fingerprints: kept in its own file (`fingerprint_key.py`),
    never encoded with this data."""


class SiteStore(Store[dict[str, Any]]):
    """The versioned storage of one site, with migrations (and its last good copy)."""

    last_good: SiteStore | None = None
    """The store of this store's last good copy (None for the copy itself)."""
    keep_copies: bool = False
    """Set once the data was read and decoded: only data known to be good is copied."""
    site_id: str = ""
    """The site whose data this is (its fingerprints are salted with it)."""
    key_store: Store[dict[str, Any]] | None = None
    """The store of the site's fingerprint key (None for the copy)."""
    code_key: bytes | None = None
    """The site's fingerprint key, once loaded: migration 1.6 re-derives fingerprints."""

    @override
    async def _async_write_data(self, data: dict[str, Any]) -> None:
        """Write the data; once that succeeded, write it as the last good copy too.

        A failed write raises here (Home Assistant logs it), so the copy keeps the
        previous good data; a failed copy leaves the main file, just written, good.
        """
        await super()._async_write_data(data)
        if self.last_good is not None and self.keep_copies:
            await self.last_good.async_save(
                {**data["data"], COPY_SAVED_AT: dt_util.utcnow().isoformat()}
            )

    @override
    async def async_remove(self) -> None:
        """Delete the data, its copy and its fingerprint key (when the site is deleted)."""
        await super().async_remove()
        if self.last_good is not None:
            await self.last_good.async_remove()
        if self.key_store is not None:
            await self.key_store.async_remove()

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring stored data up to the current version."""
        data = copy.deepcopy(old_data)
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
        if old_major_version == 1 and old_minor_version < 5:  # noqa: PLR2004
            # 1.5 keeps the last site time, so a clock behind at start changes nothing.
            data.setdefault("clock_mark", None)
        if old_major_version == 1 and old_minor_version < 6:  # noqa: PLR2004
            # 1.6 keys the slots' fingerprints and keeps no PIN a grant can no longer use.
            _rederive_fingerprints(data, self.site_id, self.code_key)
            _erase_spent_pins(data)
        return data


def _rederive_fingerprints(data: dict[str, Any], site_id: str, code_key: bytes | None) -> None:
    """Replace 1.5's unkeyed fingerprints by keyed ones (from the grants' PINs), or drop them."""
    pins: dict[str, object] = {
        str(g.get("id")): (g.get("credentials") or {}).get("pin")
        for g in data.get("grants", [])
        if isinstance(g, dict)
    }
    for lock, codes in (data.get("keypad") or {}).items():
        key = lock_key(code_key, site_id, lock) if code_key is not None else None
        for slot in (codes.get("known") or {}).values():
            if isinstance(slot, dict) and slot.get("fp") is not None:
                pin = pins.get(str(slot.get("grant")))
                slot["fp"] = _keyed(slot["fp"], pin, site_id=site_id, lock=lock, key=key)
        codes["rejected"] = {
            grant: fp
            for grant, legacy in (codes.get("rejected") or {}).items()
            if (fp := _keyed(legacy, pins.get(grant), site_id=site_id, lock=lock, key=key))
        }


def _keyed(legacy: object, pin: object, *, site_id: str, lock: str, key: str | None) -> str | None:
    if not isinstance(legacy, str) or not isinstance(pin, str):
        return None
    return rederive(legacy, pin, site_id=site_id, lock=lock, key=key)


def _erase_spent_pins(data: dict[str, Any]) -> None:
    """Erase the PIN of every grant recorded as over (revoked, used up, expired)."""
    over = {state.value for state in TERMINAL_STATES}
    states = data.get("grant_states") or {}
    for grant in data.get("grants", []):
        if not isinstance(grant, dict) or not isinstance(grant.get("credentials"), dict):
            continue
        max_uses, uses = grant.get("max_uses"), grant.get("uses")
        used_up = isinstance(max_uses, int) and isinstance(uses, int) and uses >= max_uses
        if grant.get("revoked") is True or used_up or states.get(grant.get("id")) in over:
            grant["credentials"]["pin"] = None


def storage_key(entry_id: str) -> str:
    """Storage key of a site."""
    return f"{DOMAIN}.{entry_id}"


def copy_key(entry_id: str) -> str:
    """Storage key of a site's last good copy."""
    return f"{storage_key(entry_id)}.backup"


def _open(hass: HomeAssistant, key: str, site_id: str) -> SiteStore:
    store = SiteStore(
        hass,
        STORAGE_VERSION,
        key,
        minor_version=STORAGE_MINOR_VERSION,
        atomic_writes=True,
        private=True,  # it holds the PINs of grants that can still use them
    )
    store.site_id = site_id
    return store


def site_store(hass: HomeAssistant, entry_id: str) -> SiteStore:
    """Open a site's store (with its last good copy and its fingerprint key)."""
    store = _open(hass, storage_key(entry_id), entry_id)
    store.last_good = _open(hass, copy_key(entry_id), entry_id)
    store.key_store = key_store(hass, entry_id)
    return store


def decode(raw: dict[str, Any] | None) -> SiteData:
    """Read stored data (already migrated)."""
    if raw is None:
        return SiteData()
    grants = [grant_from_stored(g) for g in raw.get("grants", [])]
    visits = [Visit.from_dict(v) for v in raw.get("visits", [])]
    audit = raw.get("audit", {})
    return SiteData(
        grants={g.id: g for g in grants},
        visits={v.id: v for v in visits},
        grant_states={k: state_from_stored(v) for k, v in raw.get("grant_states", {}).items()},
        audit_head=audit.get("head"),
        audit_count=int(audit.get("count", 0)),
        keypad={k: LockCodes.from_dict(v) for k, v in raw.get("keypad", {}).items()},
        lock_on_close={str(p) for p in raw.get("lock_on_close", [])},
        alarm_hold=raw.get("alarm_hold"),
        replay=dict(raw.get("replay") or {}),
        link_secret=raw.get("link_secret"),
        guest_links={str(k): dict(v) for k, v in (raw.get("guest_links") or {}).items()},
        clock_mark=_clock_mark(raw.get("clock_mark")),
    )


def _clock_mark(value: object) -> datetime | None:
    """The stored site time; None if absent or not an aware ISO 8601 instant."""
    if not isinstance(value, str):
        return None
    try:
        mark = datetime.fromisoformat(value)
    except ValueError:
        return None
    return mark if mark.utcoffset() is not None else None


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
        "alarm_hold": data.alarm_hold,
        "replay": data.replay,
        "link_secret": data.link_secret,
        "guest_links": data.guest_links,
        "clock_mark": data.clock_mark.isoformat() if data.clock_mark else None,
    }
