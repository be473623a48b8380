"""The bridge: credentials in, gate commands out, every step an access event.

Entry (fail-secure): verify the credential → the store's rules (entry gate, capacity) →
write the session, the used QR id, occupancy and the events in one transaction → command
the gate → `gate_opened`. Any refusal is an `access_denied` event with its reason and the
gate stays shut; a database that cannot record the session refuses entry
(`storage_unavailable`); a gate that cannot be commanded aborts the session.

Exit (fail-safe egress): the exit gate is commanded FIRST, before anything touches the
database or the broker, and whatever is known (the session, if the tracking system or the
shopper identified it) is recorded after. With the database down the exit still opens; the
session's closing and its events wait in memory and are written when the database is back.

Occupancy and the sessions inside live in memory (loaded from the database at start) so
that decisions never wait for storage.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from . import retention
from .activity import Activity
from .core.credentials import (
    CredentialRejected,
    OperatorKey,
    check_card_token,
    replay_id,
    verify_qr,
)
from .core.store import (
    EntryDenial,
    Session,
    SessionState,
    after_exit,
    entry_denial,
    new_session,
    occupancy_data,
)
from .events import Wire, make_event
from .gates.base import Gate, GateError, GateRole, GateSignal, SignalKind
from .outbox import Backlog, Publisher
from .storage import Database, Purged, Replayed, StorageUnavailable, Store
from .vocabulary import STATUS_VERSION, EventType, Outcome, Source

_LOGGER = logging.getLogger(__name__)

PURGE_EVERY_S: Final = 3600.0
COUNTERS: Final = (
    "checked_in",
    "checked_out",
    "denied",
    "inside_at_start",
    "people_in",
    "people_checked_out",
    "people_unrecognised",
)
BACKLOG_RETRY_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The store's own settings."""

    site: str
    name: str
    capacity: int
    issuer: str
    keys: Mapping[str, OperatorKey] = field(default_factory=dict)
    max_party: int = 4
    retention_days: int = 90


@dataclass(frozen=True, slots=True)
class GateInfo:
    """A configured gate: its adapter and display name."""

    gate: Gate
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the bridge did with a request (returned to the API caller)."""

    gate: str
    opened: bool
    outcome: Outcome
    reason: str | None = None
    visit_id: str | None = None
    track_id: str | None = None
    occupancy: int = 0
    decided_ms: float = 0.0
    """Credential presented → open command issued (or refusal), in milliseconds."""

    def to_json(self) -> dict[str, Any]:
        """The API answer."""
        return {
            "gate": self.gate,
            "opened": self.opened,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "visit": self.visit_id,
            "track": self.track_id,
            "occupancy": self.occupancy,
        }


class UnknownGateError(KeyError):
    """No gate with this id."""


class Bridge:
    """One store: its gates, sessions, occupancy, storage and publisher."""

    def __init__(
        self,
        settings: StoreSettings,
        db: Database,
        gates: Mapping[str, GateInfo],
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Wire the parts; `start` brings them up."""
        self.settings = settings
        self.db = db
        self.gates = dict(gates)
        self.publisher = publisher
        self.clock = clock
        self.occupancy = 0
        self.inside: dict[str, Session] = {}
        self._by_track: dict[str, str] = {}
        self._passing: dict[str, str | None] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        """Since the bridge started: sessions (`checked_in`, `checked_out`), refusals, and
        people: `inside_at_start` + `people_in` - `people_checked_out` - `people_unrecognised`
        is always the occupancy (a party counts as its size; an exit nobody was recognised at
        lowers the occupancy by one and leaves that shopper's session open)."""
        self.denials: dict[str, int] = {}
        self.activity = Activity(clock())
        self._purge_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.backlog = publisher.backlog if publisher is not None else Backlog()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open storage, load who is inside, start gates and the publisher."""
        snapshot = await self.db.open()
        self.occupancy = snapshot.occupancy
        self.counters["inside_at_start"] = snapshot.occupancy
        for session in await self.db.call(lambda store: store.inside()):
            self._remember(session)
        for info in self.gates.values():
            await info.gate.start(self.on_signal)
        if self.publisher is not None:
            self.publisher.start()
        self._purge_task = asyncio.create_task(self._purge_loop(), name="store-bridge-purge")
        _LOGGER.info(
            "Store %s ready: %d gates, %d inside, %d events waiting",
            self.settings.site,
            len(self.gates),
            self.occupancy,
            snapshot.pending,
        )

    async def stop(self) -> None:
        """Stop gates, publisher and storage."""
        if self._purge_task is not None:
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task
        for info in self.gates.values():
            await info.gate.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.publisher is not None:
            await self.publisher.stop()
        if len(self.backlog) and not await self.backlog.flush(self.db):
            _LOGGER.error("Stopping with %d events the database did not take", len(self.backlog))
        await self.db.close()

    async def _purge_loop(self) -> None:
        """Retry held writes every second; purge old records every hour."""
        last_purge = time.monotonic()
        while True:
            await asyncio.sleep(BACKLOG_RETRY_S)
            if len(self.backlog) and await self.backlog.flush(self.db):
                _LOGGER.warning("Storage is back; the events held in memory are written")
                if self.publisher is not None:
                    self.publisher.wake()
            if time.monotonic() - last_purge >= PURGE_EVERY_S:
                last_purge = time.monotonic()
                await self.purge()

    async def purge(self) -> Purged:
        """Drop what is past the retention, in batches (`retention.py`)."""
        try:
            purged = await retention.purge(
                self.db, retention.due(self.clock(), self.settings.retention_days)
            )
        except StorageUnavailable:
            return Purged()
        if purged.rows:
            _LOGGER.info(
                "Purged %d events, %d sessions and %d used QR ids past the retention "
                "in %d batches; %d pages given back",
                purged.events,
                purged.sessions,
                purged.used_codes,
                purged.batches,
                purged.pages_freed,
            )
        return purged

    # --- helpers -----------------------------------------------------------------------

    def _gate(self, gate_id: str) -> GateInfo:
        try:
            return self.gates[gate_id]
        except KeyError:
            raise UnknownGateError(gate_id) from None

    def _remember(self, session: Session) -> None:
        self.inside[session.visit_id] = session
        self._by_track[session.track_id] = session.visit_id

    def _forget(self, session: Session) -> None:
        self.inside.pop(session.visit_id, None)
        self._by_track.pop(session.track_id, None)

    def _event(self, kind: EventType, outcome: Outcome, **values: Any) -> Wire:  # noqa: ANN401
        return make_event(
            site=self.settings.site, type=kind, outcome=outcome, when=self.clock(), **values
        )

    def _occupancy_event(self) -> Wire:
        return self._event(
            EventType.OCCUPANCY_CHANGED,
            Outcome.INFO,
            data=occupancy_data(self.occupancy, self.settings.capacity),
        )

    async def _write(self, write: Callable[[Store], object], events: list[Wire]) -> None:
        """Write a change with its events, or hold both until the database is back."""
        self.activity.saw(events, self.clock())
        if len(self.backlog) and not await self.backlog.flush(self.db):
            self.backlog.add(write, events)  # keep the order: behind what already waits
            if self.publisher is not None:
                self.publisher.wake()
            return
        try:
            await self.db.call(write)
        except StorageUnavailable as err:
            _LOGGER.warning("Storage unavailable (%s); %d events wait in memory", err, len(events))
            self.backlog.add(write, events)
        if self.publisher is not None:
            self.publisher.wake()

    async def _deny(self, gate: str, source: Source, reason: str, started: float) -> Decision:
        self.counters["denied"] += 1
        self.denials[reason] = self.denials.get(reason, 0) + 1
        event = self._event(
            EventType.ACCESS_DENIED, Outcome.DENIED, portal=gate, reason=reason, source=source
        )
        elapsed = (time.perf_counter() - started) * 1000
        await self._write(lambda store: store.add_events([event]), [event])
        return Decision(
            gate=gate,
            opened=False,
            outcome=Outcome.DENIED,
            reason=reason,
            occupancy=self.occupancy,
            decided_ms=elapsed,
        )

    # --- entry -------------------------------------------------------------------------

    async def check_in_qr(self, gate_id: str, token: str) -> Decision:
        """A shopper shows the app's QR code at an entry gate."""
        started = time.perf_counter()
        self._gate(gate_id)
        settings = self.settings
        try:
            claims = verify_qr(
                token,
                keys=settings.keys,
                issuer=settings.issuer,
                site=settings.site,
                now=self.clock(),
                max_party=settings.max_party,
            )
        except CredentialRejected as err:
            return await self._deny(gate_id, Source.STORE_APP, err.reason.value, started)
        replay = (replay_id(settings.issuer, claims.jti), claims.expires.timestamp())
        return await self._admit(
            gate_id=gate_id,
            source=Source.STORE_APP,
            party=claims.party,
            account=claims.account,
            replay=replay,
            started=started,
        )

    async def check_in_card(self, gate_id: str, token: str) -> Decision:
        """A card-terminal adapter reports a card tap (the processor's token) at an entry gate."""
        started = time.perf_counter()
        self._gate(gate_id)
        try:
            account = check_card_token(token)
        except CredentialRejected as err:
            return await self._deny(gate_id, Source.PAYMENT_CARD, err.reason.value, started)
        return await self._admit(
            gate_id=gate_id,
            source=Source.PAYMENT_CARD,
            party=1,
            account=account,
            replay=None,
            started=started,
        )

    async def _admit(  # noqa: PLR0913 - one check-in's parts
        self,
        *,
        gate_id: str,
        source: Source,
        party: int,
        account: str,
        replay: tuple[str, float] | None,
        started: float,
    ) -> Decision:
        info = self.gates[gate_id]
        denial = entry_denial(
            is_entry_gate=info.gate.role is GateRole.ENTRY,
            occupancy=self.occupancy,
            capacity=self.settings.capacity,
            party=party,
        )
        if denial is not None:
            return await self._deny(gate_id, source, denial.value, started)
        session = new_session(
            source=source.value, gate=gate_id, party=party, account=account, now=self.clock()
        )
        self.occupancy += party  # reserved now: concurrent check-ins see it
        self.counters["people_in"] += party
        self._remember(session)
        events = [
            self._event(
                EventType.CHECK_IN,
                Outcome.OK,
                portal=gate_id,
                visit=session.visit_id,
                source=source,
                data={"track": session.track_id, "party_size": party},
            ),
            self._occupancy_event(),
        ]
        occupancy = self.occupancy
        try:
            await self.db.call(lambda store: store.check_in(session, replay, occupancy, events))
        except (Replayed, StorageUnavailable) as err:
            self.occupancy -= party
            self.counters["people_in"] -= party
            self._forget(session)
            reason = "replayed" if isinstance(err, Replayed) else EntryDenial.STORAGE_UNAVAILABLE
            return await self._deny(gate_id, source, reason, started)
        self.activity.saw(events, self.clock())
        try:
            await info.gate.open()
        except GateError as err:
            decided = (time.perf_counter() - started) * 1000
            await self._abort(session, gate_id, err.reason)
            return Decision(
                gate=gate_id,
                opened=False,
                outcome=Outcome.FAILED,
                reason=err.reason,
                visit_id=session.visit_id,
                occupancy=self.occupancy,
                decided_ms=decided,
            )
        decided = (time.perf_counter() - started) * 1000
        self.counters["checked_in"] += 1
        self._passing[gate_id] = session.visit_id
        opened = self._event(
            EventType.GATE_OPENED, Outcome.OK, portal=gate_id, visit=session.visit_id
        )
        await self._write(lambda store: store.add_events([opened]), [opened])
        return Decision(
            gate=gate_id,
            opened=True,
            outcome=Outcome.OK,
            visit_id=session.visit_id,
            track_id=session.track_id,
            occupancy=self.occupancy,
            decided_ms=decided,
        )

    async def _abort(self, session: Session, gate_id: str, reason: str) -> None:
        _LOGGER.warning("Gate %s could not be opened (%s); check-in aborted", gate_id, reason)
        self._forget(session)
        before = self.occupancy
        self.occupancy = after_exit(self.occupancy, session.party)
        self.counters["people_in"] -= before - self.occupancy
        events = [
            self._event(
                EventType.VISIT_ABORTED,
                Outcome.FAILED,
                portal=gate_id,
                visit=session.visit_id,
                reason=reason,
            ),
            self._occupancy_event(),
        ]
        occupancy, now = self.occupancy, self.clock()
        await self._write(
            lambda store: store.close_session(
                session.visit_id,
                state=SessionState.ABORTED,
                gate=None,
                when=now,
                occupancy=occupancy,
                events=events,
            ),
            events,
        )

    # --- exit --------------------------------------------------------------------------

    async def exit(
        self, gate_id: str, *, visit_id: str | None = None, track_id: str | None = None
    ) -> Decision:
        """Let someone out. The gate opens first, whatever else is down."""
        started = time.perf_counter()
        info = self._gate(gate_id)
        if info.gate.role is not GateRole.EXIT:
            # An entry turnstile does not let people out: "exit" there would be a way in.
            return await self._deny(gate_id, Source.SYSTEM, EntryDenial.WRONG_GATE, started)
        failure: GateError | None = None
        try:
            await info.gate.open()
        except GateError as err:
            failure = err
        decided = (time.perf_counter() - started) * 1000
        await asyncio.sleep(0)  # in a crowd, let the next exit's open go out before our records
        if failure is not None:
            alert = self._event(
                EventType.SAFETY_ALERT, Outcome.FAILED, portal=gate_id, reason=failure.reason
            )
            _LOGGER.error(
                "Exit gate %s did not take the open command (%s)", gate_id, failure.reason
            )
            await self._write(lambda store: store.add_events([alert]), [alert])
            return Decision(
                gate=gate_id,
                opened=False,
                outcome=Outcome.FAILED,
                reason=failure.reason,
                occupancy=self.occupancy,
                decided_ms=decided,
            )
        visit = visit_id if visit_id in self.inside else self._by_track.get(track_id or "")
        session = self.inside.get(visit or "")
        events = [
            self._event(
                EventType.GATE_OPENED,
                Outcome.OK,
                portal=gate_id,
                visit=visit,
                reason=None if session else "egress",
            )
        ]
        before = self.occupancy
        if session is not None:
            self._forget(session)
            self.occupancy = after_exit(self.occupancy, session.party)
            self.counters["checked_out"] += 1
            self.counters["people_checked_out"] += before - self.occupancy
            events.append(
                self._event(
                    EventType.CHECK_OUT,
                    Outcome.OK,
                    portal=gate_id,
                    visit=session.visit_id,
                    source=Source(session.source),
                    data={"track": session.track_id, "party_size": session.party},
                )
            )
        else:
            self.occupancy = after_exit(self.occupancy, 1)
            self.counters["people_unrecognised"] += before - self.occupancy
        self._passing[gate_id] = session.visit_id if session else None
        events.append(self._occupancy_event())
        occupancy, now = self.occupancy, self.clock()
        closing = session.visit_id if session else None
        await self._write(
            lambda store: store.close_session(
                closing,
                state=SessionState.LEFT,
                gate=gate_id,
                when=now,
                occupancy=occupancy,
                events=events,
            ),
            events,
        )
        return Decision(
            gate=gate_id,
            opened=True,
            outcome=Outcome.OK,
            reason=None if session else "egress",
            visit_id=closing,
            track_id=session.track_id if session else None,
            occupancy=self.occupancy,
            decided_ms=decided,
        )

    # --- gate signals ------------------------------------------------------------------

    def on_signal(self, signal: GateSignal) -> None:
        """A gate reported something (called on the event loop)."""
        info = self.gates.get(signal.gate_id)
        if info is None:
            return
        if signal.kind is SignalKind.CREDENTIAL:
            if signal.value is not None and info.gate.role is GateRole.ENTRY:
                self._spawn(self.check_in_qr(signal.gate_id, signal.value))
            elif info.gate.role is GateRole.EXIT:
                self._spawn(self.exit(signal.gate_id))
            return
        kind = EventType.DOOR_OPENED if signal.kind is SignalKind.OPENED else EventType.DOOR_CLOSED
        visit = self._passing.get(signal.gate_id)
        if signal.kind is SignalKind.CLOSED:
            self._passing.pop(signal.gate_id, None)
        event = self._event(kind, Outcome.INFO, portal=signal.gate_id, visit=visit)
        self._spawn(self._write(lambda store: store.add_events([event]), [event]))

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The retained status for subscribers (no personal data)."""
        return {
            "v": STATUS_VERSION,
            "site": self.settings.site,
            "name": self.settings.name,
            "online": True,
            "capacity": self.settings.capacity,
            "occupancy": self.occupancy,
            "gates": [
                {"id": gate_id, "name": info.name, "role": info.gate.role.value}
                for gate_id, info in self.gates.items()
            ],
        }
