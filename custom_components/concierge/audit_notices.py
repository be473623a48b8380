"""What the owner is told about a site's audit log: its repairs and its log warnings.

Four repairs, none of which can be fixed from the UI: the log cannot be written (how
many records wait; gone once they are written, or at unload), a torn tail was cut off
(where its bytes are kept; persistent), lines hold no record (gone once the log loads
clean) and records were lost (one per gap; persistent). Each comes with a warning in
Home Assistant's log. What happened is `audit_log.AuditLog`'s to find out.
"""

import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .core.audit import SeqRange
from .core.audit_scan import DamagedLine, TornTail

_LOGGER = logging.getLogger(__name__)

ISSUE_WRITE_FAILED = "audit_write_failed"
ISSUE_TORN_TAIL = "audit_torn_tail"
ISSUE_DAMAGED = "audit_damaged"
ISSUE_RECORDS_LOST = "audit_records_lost"
ISSUE_KEYS = (ISSUE_WRITE_FAILED, ISSUE_TORN_TAIL, ISSUE_DAMAGED, ISSUE_RECORDS_LOST)

MAX_LOGGED_BYTES = 2000
"""Torn bytes that cannot be kept in a file are logged, up to this many."""


class AuditNotices:
    """The repairs and warnings of one site's audit log."""

    def __init__(self, hass: HomeAssistant, entry_id: str, path: Path) -> None:
        """Speak for the log of site `entry_id`, kept at `path`."""
        self._hass = hass
        self._entry_id = entry_id
        self.path = path

    # --- found at load ---------------------------------------------------------------

    def torn_bytes_not_kept(self, torn: TornTail, err: OSError) -> str:
        """The torn bytes could not be kept in a file: log them; say where they are."""
        _LOGGER.warning(
            "Audit log %s: the torn bytes could not be kept in a file (%s); they were: %r",
            self.path, err, torn.data[:MAX_LOGGED_BYTES],
        )  # fmt: skip
        return f"the Home Assistant log ({err.strerror})"

    def torn_tail(self, torn: TornTail, stamp: str, kept: str) -> None:
        """A torn tail was cut off at load; its bytes are kept in `kept`."""
        _LOGGER.warning(
            "Audit log %s: line %d (record %d) was cut short, probably by a power loss; "
            "the log is cut back to the last whole record and the %d torn bytes are kept in %s",
            self.path, torn.line, torn.seq, len(torn.data), kept,
        )  # fmt: skip
        self._repair(
            f"{ISSUE_TORN_TAIL}_{self._entry_id}_{stamp}",
            translation_key="audit_torn_tail",
            severity=ir.IssueSeverity.WARNING,
            placeholders={
                "site": self._site_name(),
                "line": str(torn.line),
                "seq": str(torn.seq),
                "file": kept,
            },
            persistent=True,
        )

    def damage(self, damaged: tuple[DamagedLine, ...]) -> None:
        """Report the live segment's lines that hold no record, or clear the repair."""
        issue_id = f"{ISSUE_DAMAGED}_{self._entry_id}"
        if not damaged:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        first = damaged[0]
        _LOGGER.warning(
            "Audit log %s: %d line(s) hold no record (first: line %d, where record %d would "
            "be); they are left in place, the chain goes on from the last whole record, and "
            "verification reports them",
            self.path, len(damaged), first.line, first.seq,
        )  # fmt: skip
        self._repair(
            issue_id,
            translation_key="audit_damaged",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "line": str(first.line),
                "seq": str(first.seq),
                "count": str(len(damaged)),
                "file": str(self.path),
            },
        )

    def records_lost(self, gap: SeqRange) -> None:
        """The site's stored head counts records the log does not hold."""
        _LOGGER.warning(
            "Audit log %s: records %d to %d are missing (the log ends before them, the "
            "site's stored head counts them); a gap record says so",
            self.path, gap.first, gap.last,
        )  # fmt: skip
        self._repair(
            f"{ISSUE_RECORDS_LOST}_{self._entry_id}_{gap.first}",
            translation_key="audit_records_lost",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "count": str(gap.count),
                "first": str(gap.first),
                "last": str(gap.last),
            },
            persistent=True,
        )

    # --- writing ---------------------------------------------------------------------

    def write_failed(self, err: OSError, failures: int, pending: int) -> None:
        """A write failed (warned once; later failures in a row at debug level)."""
        if failures == 1:
            _LOGGER.warning(
                "Could not write the audit log %s: %s; %d record(s) are kept in memory and "
                "written as soon as the disk takes them",
                self.path, err, pending,
            )  # fmt: skip
        else:
            _LOGGER.debug("Audit log still not writable (attempt %d): %s", failures, err)

    def compress_failed(self, err: OSError) -> None:
        """A closed segment could not be compressed (it stays as it is, and is read so)."""
        _LOGGER.warning("Audit log %s: a closed segment could not be compressed: %s",
                        self.path, err)  # fmt: skip

    def records_waiting(self, pending: int, error: str) -> None:
        """Raise (or update) the repair: `pending` records wait for the disk."""
        self._repair(
            f"{ISSUE_WRITE_FAILED}_{self._entry_id}",
            translation_key="audit_write_failed",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "pending": str(pending),
                "error": error,
                "file": str(self.path),
            },
        )

    def written_again(self, failures: int) -> None:
        """The log is written again after `failures` failed attempts."""
        _LOGGER.info(
            "The audit log %s is written again, after %d failed attempt(s)",
            self.path, failures,
        )  # fmt: skip
        ir.async_delete_issue(self._hass, DOMAIN, f"{ISSUE_WRITE_FAILED}_{self._entry_id}")

    def stopped(self, pending: int) -> None:
        """The log stopped (unload, shutdown) with `pending` records not written."""
        if pending:
            _LOGGER.warning(
                "Audit log %s: %d record(s) could not be written before stopping; the next "
                "start records them as missing",
                self.path, pending,
            )  # fmt: skip
        ir.async_delete_issue(self._hass, DOMAIN, f"{ISSUE_WRITE_FAILED}_{self._entry_id}")

    def remove_all(self) -> None:
        """Delete every repair of the log (when the site is deleted)."""
        registry = ir.async_get(self._hass)
        for domain, issue_id in list(registry.issues):
            if domain == DOMAIN and any(
                issue_id.startswith(f"{key}_{self._entry_id}") for key in ISSUE_KEYS
            ):
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    def _site_name(self) -> str:
        entry = self._hass.config_entries.async_get_entry(self._entry_id)
        return entry.title if entry is not None else self._entry_id

    def _repair(
        self,
        issue_id: str,
        *,
        translation_key: str,
        severity: ir.IssueSeverity,
        placeholders: dict[str, str],
        persistent: bool = False,
    ) -> None:
        """Raise (or update) one of the log's repairs; none can be fixed from the UI."""
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=persistent,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )
