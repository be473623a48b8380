"""Receipts on request: queued with the shopper's address, sent, and the address erased.

A request is a visit and an address (and the receipt's language). It comes from the app's
backend (`POST /v1/visits/<visit>/receipt`) or from the receipt page a card shopper opens
from the QR shown at the exit (a one-time code, `receipt_web.py`). It is stored
(`receipt_store.py`) until the mail server accepted the message; then the address is erased
in the same transaction (or after `address_retention_days`, when configured).

A request may come before its visit's checkout is done (a shopper asks at the exit): it
waits, and goes as soon as the checkout is done (`wake`, or the next look, every
`PENDING_POLL_S`). A request whose checkout is not done within `code_ttl_h` is given up.

A send the server refuses for good (5xx) is given up at once; one that could not be
delivered (server down, 4xx) is retried with a doubling delay (`retry_base_s` up to
`retry_max_s`), `max_attempts` times in all. A request given up has its address erased all
the same and is counted as failed (`counts`).

A send whose answer was lost after the whole message went out (`mailer.Unknown`: it may have
been accepted) is retried the same way, never blindly: every attempt of a request carries the
same Message-ID (derived from the request, `receipt_mail.py`), so a mail system that got the first
one can drop the duplicate; so does a send repeated after a crash between the server's
acceptance and its record. Marking a request sent or given up, and erasing an address, is
committed durably (synchronous FULL), and then the write-ahead log is truncated
(`store_schema.fold_log`; a reader in the way: again soon), so that no old frame of it keeps
the address while the bridge runs.

The sending loop survives any failure: the database unavailable, or anything unexpected (a
bug, a source that fails), is logged (its kind, never the address) and tried again after a
doubling delay (`pending_poll_s` up to `FAULT_MAX_S`).

The log names the visit and what happened, never the address; the events `news` builds get
the visit, what happened and the attempts, nothing else. A receipt code is random (128 bits),
used once, and expires after `code_ttl_h`; only its hash is stored.
"""

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from . import receipt_store as rs
from .core.email_address import AddressProblem, address_problem
from .core.receipt import Language
from .database import Database
from .events import Wire
from .mail_config import MailSpec
from .mailer import Accepted, Refused, Sender
from .receipt_mail import Purchase as Purchase  # noqa: PLC0414 - re-exported
from .receipt_mail import receipt_message
from .storage import StorageUnavailable
from .store_schema import fold_log

_LOGGER = logging.getLogger(__name__)

PENDING_POLL_S: Final = 5.0
"""How often a request whose checkout is not done looks again (besides `wake`)."""
IDLE_S: Final = 3600.0
"""The longest the sender sleeps when nothing is due (addresses kept for a while expire)."""
BATCH: Final = 20
FAULT_MAX_S: Final = 300.0
"""The longest the loop waits after a failure before it looks again."""
FOLD_RETRY_S: Final = 1.0
"""How soon the write-ahead log is truncated again after a reader kept it."""
DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class Pending:
    """The visit is known; its checkout is not done yet."""


class PurchaseSource(Protocol):
    """Where the receipts learn what a visit bought (the checkout)."""

    async def purchase(self, visit: str) -> Purchase | Pending | None:
        """The visit's purchase, `Pending()` until its checkout is done, None if unknown."""
        ...


@dataclass(frozen=True, slots=True)
class ReceiptNews:
    """What happened to a request (for the shell's events: no address, ever)."""

    kind: str
    """``receipt_sent`` or ``receipt_failed``."""
    visit: str
    at: datetime
    attempts: int


class InvalidAddressError(ValueError):
    """The address cannot be used; nothing was stored."""

    def __init__(self, problem: AddressProblem) -> None:
        """Say why (the address itself is not in the message)."""
        super().__init__(f"the e-mail address cannot be used ({problem.value})")
        self.problem = problem


class UnknownVisitError(LookupError):
    """No such visit (or it is gone with the store's retention)."""


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A receipt code for the exit's QR."""

    code: str
    url: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class OpenCode:
    """A usable code as its page needs it."""

    visit: str
    form_token: str


def code_hash(code: str) -> str:
    """What the database keeps of a code."""
    return hashlib.sha256(code.encode("utf-8", "surrogateescape")).hexdigest()


def checked_address(text: object) -> str:
    """The address to use, or `InvalidAddressError` (surrounding spaces are dropped)."""
    if not isinstance(text, str):
        raise InvalidAddressError(AddressProblem.EMPTY)
    address = text.strip(" \t")
    if (problem := address_problem(address)) is not None:
        raise InvalidAddressError(problem)
    return address


class Receipts:
    """The receipt requests of one store: queue, send, erase, count."""

    def __init__(  # noqa: PLR0913 - the receipts' collaborators
        self,
        db: Database,
        spec: MailSpec,
        sender: Sender,
        source: PurchaseSource,
        *,
        store: str,
        news: Callable[[ReceiptNews], Sequence[Wire]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pending_poll_s: float = PENDING_POLL_S,
    ) -> None:
        """Wire the parts; `start` starts sending."""
        self._pending_poll_s = pending_poll_s
        self._db = db
        self.spec = spec
        self._sender = sender
        self._source = source
        self._store = store
        self._news = news or (lambda _: ())
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._done_visits: set[str] = set()
        self._unfolded = False
        """An address was erased and the write-ahead log not truncated since."""
        self.on_change: Callable[[], None] = lambda: None
        """Called after the counts may have changed (the bridge's status reads them again)."""

    def start(self) -> None:
        """Start sending what is queued (and what comes)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="store-bridge-receipts")

    async def close(self) -> None:
        """Stop sending (what waits stays queued in the database)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look at the queue now (a checkout is done, a request was queued)."""
        self._wakeup.set()
        self.on_change()

    def checkout_done(self, visit: str) -> None:
        """`visit`'s checkout is done: its waiting requests are due now, not at their next poll."""
        self._done_visits.add(visit)
        self.wake()

    async def _known(self, visit: str) -> None:
        if await self._source.purchase(visit) is None:
            raise UnknownVisitError(visit)

    async def request(self, visit: str, address: object, language: Language | None) -> None:
        """Queue a receipt for `visit` (its checkout done or not yet)."""
        checked = checked_address(address)
        await self._known(visit)
        lang = (language or self.spec.language).value
        now = self._clock().timestamp()
        await self._db.call(
            lambda store: store.change(lambda db: rs.add_request(db, visit, checked, lang, now), ())
        )
        _LOGGER.info("Receipt for visit %s requested", visit)
        self.wake()

    async def issue_code(self, visit: str) -> IssuedCode:
        """A new one-time code for `visit`'s receipt page."""
        await self._known(visit)
        code, token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        expires = self._clock() + timedelta(hours=self.spec.code_ttl_h)
        digest = code_hash(code)
        await self._db.call(
            lambda store: store.change(
                lambda db: rs.add_code(db, digest, visit, token, expires.timestamp()), ()
            )
        )
        return IssuedCode(code, f"{self.spec.page_url or ''}/r/{code}", expires)

    async def open_code(self, code: str) -> OpenCode | rs.Redeemed:
        """The code's visit and form token, or why it cannot be used."""
        digest = code_hash(code)
        row = await self._db.call(lambda store: rs.find_code(store.db, digest))
        if (problem := rs.code_state(row, self._clock().timestamp())) is not None:
            return problem
        assert row is not None  # noqa: S101 - code_state says so
        return OpenCode(row.visit, row.form_token)

    async def redeem(
        self, code: str, form_token: str, address: object, language: Language
    ) -> rs.Redeemed:
        """The receipt page's form: the code used once and its request queued, or why not."""
        checked = checked_address(address)
        digest, now = code_hash(code), self._clock().timestamp()
        answer = await self._db.call(
            lambda store: store.change(
                lambda db: rs.redeem(db, digest, form_token, checked, language.value, now), ()
            )
        )
        if answer is rs.Redeemed.QUEUED:
            _LOGGER.info("Receipt requested on the receipt page")
            self.wake()
        return answer

    async def counts(self) -> dict[str, int]:
        """Requests waiting, sent and given up."""
        return await self._db.call(lambda store: rs.counts(store.db))

    async def _run(self) -> None:
        faults = 0
        while True:
            self._wakeup.clear()
            try:
                delay = await self.send_due()
                faults = 0
            except StorageUnavailable:
                _LOGGER.warning("Receipts wait: the database cannot be used right now")
                delay = self._fault_delay(faults)
                faults += 1
            except Exception as err:  # noqa: BLE001 - the loop must go on; the kind is logged
                delay = self._fault_delay(faults)
                faults += 1
                _LOGGER.error(  # noqa: TRY400 - the traceback could hold an address
                    "Receipts: unexpected failure (%s); trying again in %.0f s",
                    type(err).__name__,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)

    def _fault_delay(self, faults: int) -> float:
        return min(FAULT_MAX_S, self._pending_poll_s * 2.0 ** min(faults, 16))

    async def send_due(self) -> float:
        """Send what is due now; how long until the next is due (at most `IDLE_S`)."""
        now = self._clock().timestamp()
        if self._done_visits:
            done, self._done_visits = sorted(self._done_visits), set()
            await self._db.call(
                lambda store: store.change(lambda db: rs.due_now(db, done, now), ())
            )
        if await self._db.call(lambda store: rs.erase_is_due(store.db, now)):
            await self._db.call(
                lambda store: store.change(lambda db: rs.erase_due(db, now), (), durable=True)
            )
            self._unfolded = True
        while batch := await self._due():
            for request in batch:
                await self._one(request)
        upcoming = await self._db.call(lambda store: rs.next_due(store.db))
        delay = IDLE_S
        if upcoming is not None:
            delay = min(IDLE_S, max(0.0, upcoming - self._clock().timestamp()))
        if self._unfolded:
            self._unfolded = not await self._db.upkeep(lambda store: fold_log(store.db))
            if self._unfolded:
                delay = min(delay, FOLD_RETRY_S)
        return delay

    async def _due(self) -> list[rs.DueRequest]:
        now = self._clock().timestamp()
        return await self._db.call(lambda store: rs.due(store.db, now, BATCH))

    async def _one(self, request: rs.DueRequest) -> None:
        purchase = await self._source.purchase(request.visit)
        now = self._clock()
        if purchase is None:
            await self._give_up(request, now, attempted=False, why="its visit is gone")
            return
        if isinstance(purchase, Pending):
            if now.timestamp() - request.created >= self.spec.code_ttl_h * 3600:
                await self._give_up(request, now, attempted=False, why="no checkout in time")
                return
            await self._later(request, now.timestamp() + self._pending_poll_s, attempted=False)
            return
        try:
            message = receipt_message(request, purchase, now, store=self._store, spec=self.spec)
        except ValueError:
            await self._give_up(request, now, attempted=False, why="it cannot be written")
            return
        result = await self._sender.send(message)
        now = self._clock()
        if isinstance(result, Accepted):
            await self._sent(request, now)
        elif isinstance(result, Refused):
            await self._give_up(request, now, attempted=True, why="the mail server refused it")
        elif request.attempts + 1 >= self.spec.max_attempts:
            await self._give_up(request, now, attempted=True, why="no attempt got through")
        else:
            delay = min(self.spec.retry_max_s, self.spec.retry_base_s * 2**request.attempts)
            await self._later(request, now.timestamp() + delay, attempted=True)

    async def _sent(self, request: rs.DueRequest, now: datetime) -> None:
        days = self.spec.address_retention_days
        erase_at = None if days == 0 else now.timestamp() + days * DAY_S
        events = self._news(ReceiptNews("receipt_sent", request.visit, now, request.attempts + 1))
        await self._db.call(
            lambda store: store.change(
                lambda db: rs.mark_sent(db, request.id, now.timestamp(), erase_at),
                events,
                durable=True,
            )
        )
        self._unfolded = self._unfolded or erase_at is None
        _LOGGER.info("Receipt for visit %s sent", request.visit)
        self.on_change()

    async def _give_up(
        self, request: rs.DueRequest, now: datetime, *, attempted: bool, why: str
    ) -> None:
        attempts = request.attempts + int(attempted)
        events = self._news(ReceiptNews("receipt_failed", request.visit, now, attempts))
        await self._db.call(
            lambda store: store.change(
                lambda db: rs.mark_failed(db, request.id, now.timestamp(), attempted=attempted),
                events,
                durable=True,
            )
        )
        self._unfolded = True
        _LOGGER.warning(
            "Receipt for visit %s given up after %d attempt(s): %s", request.visit, attempts, why
        )
        self.on_change()

    async def _later(self, request: rs.DueRequest, when: float, *, attempted: bool) -> None:
        await self._db.call(
            lambda store: store.change(
                lambda db: rs.retry_later(db, request.id, when, attempted=attempted), ()
            )
        )
