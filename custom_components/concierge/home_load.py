"""Reading a home's stored data at load: repaired, or brought up to date, from its audit log.

Damaged storage starts from the last good copy or without grants, and the audit chain
says which codes are on the locks (`storage_recovery`); stored data older than the log
(Home Assistant stopped before it was saved) takes the log's later records. Either way
the result is written at once. Data that was read as stored is not written again.
"""

import logging
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from .audit_log import AuditLog
from .core.audit import AuditRecord
from .core.events import AccessEventType
from .core.visit_replay import replay_visits
from .site import SiteConfig
from .site_storage import SiteData, SiteStore, encode
from .storage_recovery import (
    Recovery,
    StoreProblem,
    async_load_site,
    async_report,
    recover_from_audit,
)

_LOGGER = logging.getLogger(__name__)
AUDIT_GAP = AccessEventType.AUDIT_GAP.value


async def async_read_home(
    hass: HomeAssistant, store: SiteStore, audit: AuditLog, site: SiteConfig, site_id: str
) -> tuple[SiteData, bool]:
    """The home's stored data, with its audit chain loaded and what the chain knows applied.

    Also whether the data now differs from what is stored (the log was ahead of it).
    """
    loaded = await async_load_site(hass, store)
    data = loaded.data
    records = await audit.async_load(data.audit_head, data.audit_count)
    # Visits whose records reached the log before the door opened, not the data (a stop).
    replay_visits(data.visits, data.grants, [r.event for r in records if r.seq > data.audit_count],
                  ZoneInfo(hass.config.time_zone))  # fmt: skip
    if loaded.recovery is not None:
        # Damaged storage: started from the last good copy or without grants. The
        # audit chain says which codes are on the locks; write the result at once.
        recover_from_audit(data, loaded.recovery, records, site.portals)
        async_report(hass, site_id, site.name, loaded.recovery)
        await store.async_save(encode(data))
    elif audit.count > data.audit_count:
        # Home Assistant stopped before the data was saved: the log knows more.
        await _async_catch_up(hass, store, data, records, site=site, site_id=site_id)
    ahead = audit.count > data.audit_count
    if ahead:
        # The log is ahead of the stored head (saved late, or a gap record was added).
        data.audit_head, data.audit_count = audit.head, audit.count
    # A new site (or one stored before the site time was kept) is written once at setup.
    return data, ahead or data.clock_mark is None


async def _async_catch_up(  # noqa: PLR0913 - what catching up reads and writes
    hass: HomeAssistant,
    store: SiteStore,
    data: SiteData,
    records: list[AuditRecord],
    *,
    site: SiteConfig,
    site_id: str,
) -> None:
    """Apply what the audit log recorded after the stored data was last saved.

    Codes written or cleared since are known again (a code must not outlive its
    window because its write was recorded but not saved); grants revoked since stay
    revoked, and grants changed since (settings the log does not hold) are suspended,
    with a repair that names them.
    """
    later = [
        r for r in records
        if r.seq > data.audit_count and r.event.get("type") != AUDIT_GAP
    ]  # fmt: skip
    if not later:
        return  # only the record of a gap: nothing to apply
    behind = Recovery(StoreProblem.BEHIND)
    recover_from_audit(data, behind, records, site.portals)
    _LOGGER.warning(
        "%s: the stored data was older than the audit log; %d later records applied",
        site.name,
        len(later),
    )
    if behind.revoked or behind.suspended:
        async_report(hass, site_id, site.name, behind)
    await store.async_save(encode(data))
