"""Loading a site whose stored data is damaged: from its last good copy, or safely without.

Home Assistant's `Store`, given a file that is not JSON, moves it aside
(`<file>.corrupt.<time>`), raises its own repair ("restore from a backup") and answers
"no data", as if the site were new. A site that started empty would forget its grants
and, worse, which lock slots hold its codes: those codes would stay on the locks. So:

- The main file is read through `Store` (with migrations). It is damaged when it was
  there but came back as no data (moved aside, or empty), when `Store` cannot read it,
  or when it does not decode. A damaged file is kept aside as `<file>.corrupt.<time>`
  (a copy; the file `Store` moved aside stays where it is). Nothing is ever deleted.
- Then the last good copy (`SiteStore.last_good`) is read the same way. If it is good,
  the site starts from it, with repair `site_store_recovered` (`site_store_missing`
  when the main file had vanished instead). Grants the owner revoked after the copy
  was made are revoked again, grants changed otherwise are suspended for the owner to
  check (the audit chain says which, not how).
- If neither is usable, the site starts without grants and with repair
  `site_store_lost`; setup never fails for damage.

In every such case the audit chain then brings the slot knowledge up to date (codes
written or cleared after the copy; with no copy, all of them), so that the keypad
manager clears every code whose grant is gone, and the recovered state is written at
once. A store newer than this version of Concierge is not damaged: it still fails the
setup, as before (a downgrade must not replace it).

The site's fingerprint key (`fingerprint_key.py`) is read first, from its own file: the
migration of either file re-derives the slots' fingerprints with it. The copy is
rewritten after every successful save, so a PIN erased from the data (its grant is over)
is gone from the copy with the same write. Damaged files kept aside are never changed.
"""

import glob
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, UnsupportedStorageVersionError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.audit import AuditRecord
from .core.errors import ConciergeError
from .core.grants import without_pin
from .core.recovery import PortalSlots, assign_ours, later_changes, replay_codes
from .fingerprint_key import async_load_key, new_key
from .site import PortalConfig
from .site_storage import COPY_SAVED_AT, LockCodes, SiteData, SiteStore, decode

_LOGGER = logging.getLogger(__name__)

CORRUPT = ".corrupt."
"""Between a damaged file's name and the time it was set aside (Home Assistant's naming)."""
NONE = "\N{EM DASH}"
"""A placeholder with nothing to name."""
DAMAGE = (ConciergeError, HomeAssistantError, KeyError, TypeError, ValueError, AttributeError)
"""What reading or decoding damaged data raises."""


class StoreProblem(StrEnum):
    """What a start found wrong with the site's stored data (each is a repair)."""

    RECOVERED = "site_store_recovered"
    """The main file was damaged; the site started from its last good copy."""
    MISSING = "site_store_missing"
    """The main file was gone; the site started from its last good copy."""
    LOST = "site_store_lost"
    """Neither file was usable; the site started without grants."""
    BEHIND = "site_store_behind"
    """The file was whole but older than the audit log (Home Assistant stopped before
    it was saved): the log's later records were applied."""


@dataclass(slots=True)
class Recovery:
    """What a start found wrong with the stored data, and what it did about it."""

    problem: StoreProblem
    copy_time: datetime | None = None
    """When the copy the site started from was written."""
    kept: tuple[str, ...] = ()
    """Where the damaged files were kept."""
    revoked: list[str] = field(default_factory=list)
    """Labels of the copy's grants revoked again (revoked after the copy was made)."""
    suspended: list[str] = field(default_factory=list)
    """Labels of the copy's grants suspended (changed after the copy was made)."""


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """A site's data as loaded, and what was wrong with it (None: nothing)."""

    data: SiteData
    recovery: Recovery | None = None


@dataclass(frozen=True, slots=True)
class _Read:
    """One file, as read: its data, or whether it was damaged and where it was kept."""

    data: SiteData | None = None
    damaged: bool = False
    kept: str | None = None
    saved_at: datetime | None = None


def _look(path: str) -> tuple[bool, set[str]]:
    """Whether the file exists, and the damaged versions of it set aside so far."""
    file = Path(path)
    aside = file.parent.glob(f"{glob.escape(file.name)}{CORRUPT}*")
    return file.exists(), {str(p) for p in aside}


def _keep_aside(path: str) -> str | None:
    """Copy a damaged file next to it, unchanged (None: it is not on disk)."""
    if not Path(path).exists():
        return None
    target = f"{path}{CORRUPT}{dt_util.utcnow().isoformat()}"
    shutil.copy2(path, target)
    return target


async def _async_keep_aside(hass: HomeAssistant, store: SiteStore) -> _Read:
    try:
        kept = await hass.async_add_executor_job(_keep_aside, store.path)
    except OSError:
        # It cannot be kept aside: then it must not be overwritten either.
        _LOGGER.exception("Could not keep %s aside; Concierge will not write it", store.path)
        store.make_read_only()
        kept = store.path
    return _Read(damaged=True, kept=kept)


async def _async_read(hass: HomeAssistant, store: SiteStore) -> _Read:
    """Read and decode one store; tell a missing file from a damaged one."""
    existed, before = await hass.async_add_executor_job(_look, store.path)
    try:
        raw = await store.async_load()
    except UnsupportedStorageVersionError:
        raise
    except DAMAGE as err:
        _LOGGER.debug("Could not read %s: %r", store.path, err)
        return await _async_keep_aside(hass, store)
    if raw is None:
        if not existed:
            return _Read()
        _exists, after = await hass.async_add_executor_job(_look, store.path)
        if moved := sorted(after - before):
            # Home Assistant moved it aside and raised a repair; ours says what happened.
            stamp = moved[-1].rpartition(CORRUPT)[2]
            ir.async_delete_issue(
                hass, HOMEASSISTANT_DOMAIN, f"storage_corruption_{store.key}_{stamp}"
            )
            return _Read(damaged=True, kept=moved[-1])
        return await _async_keep_aside(hass, store)  # there, but empty
    try:
        data = decode(raw)
    except DAMAGE as err:
        _LOGGER.debug("Could not decode %s: %r", store.path, err)
        return await _async_keep_aside(hass, store)
    saved_at = raw.get(COPY_SAVED_AT)
    copied_at = dt_util.parse_datetime(saved_at) if isinstance(saved_at, str) else None
    return _Read(data, saved_at=copied_at)


async def async_load_site(hass: HomeAssistant, store: SiteStore) -> LoadedSite:
    """Load a site's data: from its file, else from its last good copy, else safely empty.

    From here on, every successful write of `store` also writes the copy. The data
    carries the site's fingerprint key, read from its own file (or made) first.
    """
    code_key = await async_load_key(store.key_store) if store.key_store else new_key()
    store.code_key = code_key
    if store.last_good is not None:
        store.last_good.code_key = code_key
    loaded = await _async_load(hass, store)
    loaded.data.code_key = code_key
    return loaded


async def _async_load(hass: HomeAssistant, store: SiteStore) -> LoadedSite:
    main = await _async_read(hass, store)
    copy = _Read()
    if main.data is None and store.last_good is not None:
        copy = await _async_read(hass, store.last_good)
    store.keep_copies = True
    if main.data is not None:
        return LoadedSite(main.data)
    if not main.damaged and copy.data is None and not copy.damaged:
        return LoadedSite(SiteData())  # a new site
    kept = tuple(k for k in (main.kept, copy.kept) if k)
    if copy.data is not None:
        problem = StoreProblem.RECOVERED if main.damaged else StoreProblem.MISSING
        _LOGGER.warning(
            "The stored data of %s was %s; started from its last good copy of %s "
            "(damaged file kept as %s). Grants created or changed since may be missing",
            store.path,
            "damaged" if main.damaged else "missing",
            copy.saved_at,
            ", ".join(kept) or NONE,
        )
        return LoadedSite(copy.data, Recovery(problem, copy.saved_at, kept))
    _LOGGER.error(
        "The stored data of %s is damaged and has no usable copy (kept as %s); started "
        "without grants. Codes Concierge put on the locks will be removed",
        store.path,
        ", ".join(kept) or NONE,
    )
    return LoadedSite(SiteData(), Recovery(StoreProblem.LOST, None, kept))


def recover_from_audit(
    data: SiteData,
    recovery: Recovery,
    records: Sequence[AuditRecord],
    portals: Iterable[PortalConfig],
) -> None:
    """Bring recovered data up to what the audit chain recorded after it was saved.

    Slot knowledge takes the code records made since the copy (all of them when the
    data was lost); the copy's grants that were changed since are revoked again or
    suspended. Call it before the stored chain head moves on to the log's.
    """
    later = [r.event for r in records if r.seq > data.audit_count]
    known = replay_codes(
        later,
        {p.portal_id: PortalSlots(p.lock, p.slots) for p in portals},
        {lock: codes.known for lock, codes in data.keypad.items()},
        grants=data.grants,
    )
    for lock, slots in known.items():
        codes = data.keypad.setdefault(lock, LockCodes())
        codes.known = slots
        codes.assignments = assign_ours(slots, codes.assignments)
    changes = later_changes(later, data.grants)
    for grant_id in sorted(changes.revoked):
        data.grants[grant_id] = without_pin(replace(data.grants[grant_id], revoked=True))
        recovery.revoked.append(data.grants[grant_id].label)
    for grant_id in sorted(changes.changed):
        data.grants[grant_id] = replace(data.grants[grant_id], suspended=True)
        recovery.suspended.append(data.grants[grant_id].label)


def _local(moment: datetime | None) -> str:
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M") if moment else NONE


def async_report(hass: HomeAssistant, entry_id: str, site: str, recovery: Recovery) -> None:
    """Raise the repair that tells the owner what loading found and did."""
    problem = recovery.problem
    placeholders = {"site": site, "kept": ", ".join(recovery.kept) or NONE}
    if problem is not StoreProblem.LOST:
        placeholders |= {
            "time": _local(recovery.copy_time),
            "revoked": ", ".join(recovery.revoked) or NONE,
            "suspended": ", ".join(recovery.suspended) or NONE,
        }
    # One repair per incident (an ignored one must not hide the next).
    stamp = dt_util.utcnow().strftime("%Y%m%dT%H%M%S")
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{problem.value}_{entry_id}_{stamp}",
        is_fixable=False,
        is_persistent=True,
        severity=(
            ir.IssueSeverity.ERROR if problem is StoreProblem.LOST else ir.IssueSeverity.WARNING
        ),
        translation_key=problem.value,
        translation_placeholders=placeholders,
    )


def async_forget_reports(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a site's storage repairs (when the site is deleted)."""
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and any(
            issue_id.startswith(f"{problem.value}_{entry_id}_") for problem in StoreProblem
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
