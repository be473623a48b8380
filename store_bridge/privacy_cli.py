"""``store-bridge privacy export|erase --config store.toml --account -`` (`privacy.py`).

``--account -`` (recommended) reads the account reference from the first line of standard
input, so that it is not in the process list or the shell's history; ``--account REF`` takes
it from the command line. The export is printed as JSON on standard output; the erasure says
what it removed, or why it refused (exit code 3: run it again later). When the erasure was
done but the write-ahead log could not be truncated (a reader of the running bridge kept it),
it says so and exits with 4: old frames of the log may still hold the reference; run it
again (it finds nothing more to erase and tries the truncation again). A configuration error
or no reference is exit code 2, a database that cannot be opened 1. The account reference is
never written to the log.
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
NOT_TRUNCATED = 4
FROM_STDIN = "-"


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


def _account(given: str) -> str:
    """The reference: `given`, or standard input's first line for ``-``."""
    account = sys.stdin.readline().strip() if given == FROM_STDIN else given.strip()
    if not account:
        raise ConfigError("no account reference (give it on standard input)")
    return account


def run(action: str, config_path: Path, account: str) -> int:
    """Export or erase `account`'s data in the configured store's database."""
    try:
        config = load_config(config_path)
        account = _account(account)
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
    return _report(erased)


def _report(erased: privacy.Erased) -> int:
    """Say what the erasure did; the exit code."""
    if erased.rows:
        _say(
            f"store-bridge: erased {erased.rows} records of {erased.visits} visits; "
            "an account_erased event records it (without the reference)"
        )
    else:
        _say("store-bridge: the store holds nothing about this account (nothing to erase)")
    if not erased.log_truncated:
        _say(
            "store-bridge: the database's write-ahead log could not be truncated (the running "
            "bridge was reading it): its old frames may still hold the reference until it is. "
            "Run the erasure again (or once the bridge is stopped)",
            error=True,
        )
        return NOT_TRUNCATED
    return 0
