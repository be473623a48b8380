"""``store-bridge privacy export|erase --config store.toml --account REF`` (`privacy.py`).

The export is printed as JSON on standard output; the erasure says what it removed, or why
it refused (exit code 3: run it again later). A configuration error is exit code 2, a
database that cannot be opened 1. The account reference is never written to the log.
"""

import json
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import privacy
from .config import ConfigError, load_config
from .events import Wire, make_event, to_json
from .store_schema import connect
from .vocabulary import EventType, Outcome

REFUSED = 3


def _say(text: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(f"{text}\n")


def _erased_event(site: str) -> privacy.EventFactory:
    def event(visits: int) -> Wire:
        return make_event(
            site=site,
            type=EventType.ACCOUNT_ERASED,
            outcome=Outcome.OK,
            when=datetime.now(UTC),
            data={"visits": visits},
        )

    return event


def _store_events(db: sqlite3.Connection) -> privacy.EventSink:
    def add(events: list[Wire]) -> None:
        now = datetime.now(UTC).timestamp()
        db.executemany(
            "INSERT OR IGNORE INTO outbox (event_id, payload, created) VALUES (?, ?, ?)",
            [(event["id"], to_json(event), now) for event in events],
        )

    return add


def run(action: str, config_path: Path, account: str) -> int:
    """Export or erase `account`'s data in the configured store's database."""
    try:
        config = load_config(config_path)
    except ConfigError as err:
        _say(f"store-bridge: configuration error: {err}", error=True)
        return 2
    try:
        db = connect(config.database)
    except sqlite3.Error as err:
        _say(f"store-bridge: cannot open {config.database} ({err})", error=True)
        return 1
    try:
        if action == "export":
            json.dump(privacy.export(db, account), sys.stdout, indent=2, ensure_ascii=False)
            _say("")
            return 0
        try:
            erased = privacy.erase(
                db,
                account,
                _erased_event(config.site),
                _store_events(db),
                charges=config.payments is not None,
            )
        except privacy.ErasureRefused as err:
            _say(f"store-bridge: {err}", error=True)
            return REFUSED
    finally:
        db.close()
    if erased.rows:
        _say(
            f"store-bridge: erased {erased.rows} records of {erased.visits} visits; "
            "an account_erased event records it (without the reference)"
        )
    else:
        _say("store-bridge: the store holds nothing about this account (nothing to erase)")
    return 0
