"""The status page (``GET /``): the store at a glance, for the person running it.

Inside now against the limit and who came and went (adding up), each gate's state and when it
last changed, the outbox (all sent, or how many wait and for how long), refusals in the last
hour by reason in plain words, the last events (type, gate, time: never a visit, track,
account or card), and when the page was made; it reloads itself every `REFRESH_S` seconds.
With a checkout: checkouts under way, retrying and failed (or stopped by the store's setup),
accounts owing, sales today and receipts waiting or given up: counts only.
With shelf lanes: the carts of the shoppers inside (items, total, picks held, whether the
tracker follows them: no visit id), the picks waiting for review (lane, product, how many
shoppers could have made it, for how long), anomalies, unattributed picks, ignored input,
sessions closed after the longest stay (never charged), the lanes gone silent and how far the
tracker's clock is corrected.
English only: the bridge has no language setting. Times are the bridge machine's local time.
"""

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from . import words
from .activity import GateState, Seen

REFRESH_S: Final = 5
_WARN: Final = ' class="warn"'
_NOT_TRACKED: Final = '<b class="warn">no</b>'


@dataclass(frozen=True, slots=True)
class Outbox:
    """The outbox as the page shows it."""

    waiting: int | None
    """Events not yet published; None if the database cannot tell right now."""
    oldest: datetime | None
    broker: str
    """`none` (not configured), `connected` or `disconnected`."""


@dataclass(frozen=True, slots=True)
class GateRow:
    """One gate on the page."""

    name: str
    role: str
    state: GateState | None


@dataclass(frozen=True, slots=True)
class CartRow:
    """One shopper's cart on the page (no visit id)."""

    items: int
    total: int
    """Minor units."""
    currency: str | None
    held: int
    bound: bool


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One pick waiting for review."""

    lane: str
    product: str
    quantity: int
    candidates: int
    since: datetime


@dataclass(frozen=True, slots=True)
class Shelves:
    """The shelves and carts on the page."""

    carts: list[CartRow]
    reviews: list[ReviewRow]
    anomalies: int
    unattributed: int
    ignored: int
    stale: list[str]
    """Lanes gone silent."""
    abandoned: int = 0
    """Sessions closed after the longest stay inside (never charged), since start."""
    tracker_offset_s: int | None = None
    """Seconds added to the tracker's frame times (None: none applied)."""


@dataclass(frozen=True, slots=True)
class PageData:
    """Everything the page shows."""

    name: str
    occupancy: int
    capacity: int
    tally: str
    gates: list[GateRow]
    outbox: Outbox
    refusals: dict[str, int]
    recent: list[Seen]
    gate_names: dict[str, str]
    started: datetime
    now: datetime
    shelves: Shelves | None = None
    checkout: dict[str, Any] | None = None
    """The status' `checkout` object (`checkout_status.py`; None: no checkout)."""


def span(since: datetime, now: datetime) -> str:
    """How long since, in the largest unit that fits ("12 s", "3 min", "2 h", "4 d")."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:  # noqa: PLR2004 - a minute
        return f"{seconds} s"
    if seconds < 3600:  # noqa: PLR2004 - an hour
        return f"{seconds // 60} min"
    if seconds < 86400:  # noqa: PLR2004 - a day
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def ago(when: datetime, now: datetime) -> str:
    """How long ago ("12 s ago")."""
    return f"{span(when, now)} ago"


def clock(when: datetime, now: datetime) -> str:
    """A time on the bridge machine's clock: "14:03:12", with the date if not today."""
    local, today = when.astimezone(), now.astimezone()
    return local.strftime("%H:%M:%S" if local.date() == today.date() else "%Y-%m-%d %H:%M:%S")


def _outbox(outbox: Outbox, now: datetime) -> str:
    if outbox.waiting is None:
        return "the database cannot be read right now"
    if outbox.broker == "none":
        kept = "nothing kept" if not outbox.waiting else f"{outbox.waiting} events kept here"
        return f"no broker configured: {kept}, not sent anywhere"
    link = "broker connected" if outbox.broker == "connected" else "BROKER NOT CONNECTED"
    if not outbox.waiting:
        return f"{link} · all sent"
    oldest = "" if outbox.oldest is None else f", the oldest for {span(outbox.oldest, now)}"
    return f"{link} · {outbox.waiting} waiting to be sent{oldest}"


def _gate(row: GateRow, now: datetime) -> str:
    state = row.state
    shown = "no news since the bridge started" if state is None else words.GATE_STATES[state.state]
    since = "" if state is None else f"{clock(state.since, now)} ({ago(state.since, now)})"
    warn = ' class="warn"' if state is not None and state.state == "fault" else ""
    return (
        f"<tr{warn}><td>{html.escape(row.name)}</td><td>{words.ROLES.get(row.role, row.role)}</td>"
        f"<td>{html.escape(shown)}</td><td>{since}</td></tr>"
    )


def _event(seen: Seen, data: PageData) -> str:
    gate = "" if seen.gate is None else data.gate_names.get(seen.gate, seen.gate)
    return (
        f"<tr><td>{clock(seen.when, data.now)}</td><td>{html.escape(words.event(seen.type))}</td>"
        f"<td>{html.escape(gate)}</td><td>{html.escape(words.reason(seen.reason))}</td></tr>"
    )


def _money(minor: int, currency: str | None) -> str:
    return f"{minor // 100}.{minor % 100:02d} {currency or ''}".strip()


def _shelves(shelves: Shelves | None, now: datetime) -> str:
    if shelves is None:
        return ""
    carts = (
        "<table><tr><th>Items</th><th>Total</th><th>Held</th><th>Tracked</th></tr>"
        + "".join(
            f"<tr><td>{row.items}</td><td>{html.escape(_money(row.total, row.currency))}</td>"
            f"<td>{row.held}</td><td>{'yes' if row.bound else _NOT_TRACKED}</td></tr>"
            for row in shelves.carts
        )
        + "</table>"
        if shelves.carts
        else "<p>no carts: nobody inside</p>"
    )
    queue = (
        "<table><tr><th>Lane</th><th>Product</th><th>Quantity</th><th>Could be</th>"
        "<th>Waiting</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(row.lane)}</td><td>{html.escape(row.product)}</td>"
            f"<td>{row.quantity}</td><td>{words.plural(row.candidates, 'shopper')}</td>"
            f"<td>{span(row.since, now)}</td></tr>"
            for row in shelves.reviews
        )
        + "</table>"
        if shelves.reviews
        else "<p>nothing waits for review</p>"
    )
    stale = (
        f'<p class="warn">Lanes sending no weight: {html.escape(", ".join(shelves.stale))}</p>'
        if shelves.stale
        else ""
    )
    return (
        f"<h2>Carts ({len(shelves.carts)})</h2>{carts}"
        f"<h2{_WARN if shelves.reviews else ''}>Review queue ({len(shelves.reviews)})</h2>"
        f"{queue}{stale}"
        f"{_tracker_clock(shelves.tracker_offset_s)}"
        f"<p>Since the bridge started: lane anomalies {shelves.anomalies} · picks nobody "
        f"could have made {shelves.unattributed} · sensor and tracker messages ignored "
        f"{shelves.ignored} · sessions closed after the longest stay, not charged "
        f"{shelves.abandoned}</p>"
    )


def _tracker_clock(offset_s: int | None) -> str:
    if offset_s is None:
        return "<p>Tracker clock: used as it is (no correction)</p>"
    side = "behind" if offset_s > 0 else "ahead of"
    return (
        f"<p{_WARN}>Tracker clock {words.plural(abs(offset_s), 'second')} {side} the "
        f"bridge's: its times are moved by {offset_s:+d} s</p>"
    )


def _under_way(pending: int | None, retrying: int | None) -> str:
    if pending is None:  # `serve`'s checkout process is down: not known, never a hopeful 0
        return (
            f"<p{_WARN}>Checkouts under way: unknown (the checkout process is not running; "
            "it is being started again)</p>"
        )
    return f"<p>Checkouts under way: {pending} · retrying: {retrying}</p>"


def _checkout(checkout: dict[str, Any] | None) -> str:
    if checkout is None:
        return ""
    sales = checkout["sales_today"]
    money = html.escape(_money(sales["amount"], sales["currency"]))
    refunded = html.escape(_money(sales["refunded"], sales["currency"]))
    failed, owing = checkout["failed"], checkout["outstanding_accounts"]
    trouble = (
        f'<p class="warn">Payments failing: {failed} · accounts owing: {owing}</p>'
        if failed or owing
        else "<p>No payment failing, no account owing</p>"
    )
    receipts_failed = checkout["receipts_failed"]
    receipts = f"Receipts waiting to be sent: {checkout['receipts_waiting']} · given up: " + (
        f'<b class="warn">{receipts_failed}</b>' if receipts_failed else "0"
    )
    return (
        f"<h2>Checkout</h2><p>Sales today: <b>{money}</b> "
        f"({words.plural(sales['count'], 'payment')}; refunded {refunded})</p>"
        f"{_under_way(checkout['pending'], checkout['retrying'])}"
        f"{trouble}<p>{receipts}</p>"
    )


def render(data: PageData) -> str:
    """The page's HTML."""
    name, now = html.escape(data.name), data.now
    gates = "".join(_gate(row, now) for row in data.gates)
    refusals = (
        "<ul>"
        + "".join(
            f"<li>{html.escape(words.reason(code))}: {count}</li>"
            for code, count in data.refusals.items()
        )
        + "</ul>"
        if data.refusals
        else "<p>none</p>"
    )
    recent = (
        "<table><tr><th>Time</th><th>What</th><th>Gate</th><th>Why</th></tr>"
        + "".join(_event(seen, data) for seen in data.recent)
        + "</table>"
        if data.recent
        else "<p>nothing yet since the bridge started</p>"
    )
    full = ' class="warn"' if data.occupancy >= data.capacity else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_S}"><title>{name} · store bridge</title>
<style>body{{font:16px system-ui;margin:2em;max-width:60em}}td,th{{padding:.2em .8em;
text-align:left}}.big{{font-size:2em}}.warn{{color:#b00020;font-weight:bold}}
footer{{color:#555;margin-top:2em}}</style></head><body><h1>{name}</h1>
<p class="big"><span{full}>Inside now: <b>{data.occupancy}</b> of {data.capacity}</span></p>
<p>{html.escape(data.tally)} (since {clock(data.started, now)})</p>
<h2>Gates</h2><table><tr><th>Gate</th><th>Way</th><th>State</th><th>Last change</th></tr>
{gates}</table>
{_shelves(data.shelves, now)}
{_checkout(data.checkout)}
<h2>Outbox</h2><p>{html.escape(_outbox(data.outbox, now))}</p>
<h2>Refused in the last hour</h2>{refusals}
<h2>Last {len(data.recent)} events</h2>{recent}
<footer>Last updated {clock(now, now)} · refreshes every {REFRESH_S} s</footer>
</body></html>"""
