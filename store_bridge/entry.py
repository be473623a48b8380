"""The entry path (fail-secure): a credential in, an entry gate opened or kept shut.

Verify the credential → the store's rules (entry gate, capacity) → write the session, the
used QR id (or card hold), occupancy and the events in one transaction → command the gate →
`gate_opened`. Any refusal is an `access_denied` event with its reason and the gate stays
shut; a database that cannot record the session refuses entry (`storage_unavailable`); a
gate that cannot be commanded aborts the session.

A card tap's processor reference is the visit's payment (a hold for one visit): it is
recorded like a used QR id (its keyed digest, `card_replay.py`, kept for the retention and a
day), so the same reference tapped again (the same tap reported twice, or a hold already
captured) is refused as `replayed`; the terminal makes a new hold for every tap.
"""

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from .bridge_types import Decision, GateInfo, find_gate
from .card_replay import CardReplay
from .core.credentials import CredentialRejected, check_card_token, replay_id, verify_qr
from .core.store import EntryDenial, Session, SessionState, after_exit, entry_denial, new_session
from .gates.base import GateError, GateRole
from .ledger import Ledger
from .storage import Replayed, StorageUnavailable
from .vocabulary import EventType, Outcome, Source

_LOGGER = logging.getLogger(__name__)

PAYMENT_OUTSTANDING = "payment_outstanding"


class EntryPath:
    """Check-ins by QR code or card at the store's entry gates."""

    def __init__(
        self,
        ledger: Ledger,
        gates: Mapping[str, GateInfo],
        owes: Callable[[str], Awaitable[bool]] | None = None,
        card_owes: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        """Record through `ledger`; the gates are the bridge's; `owes`: an unpaid account.

        `card_owes`: whether the card behind a tap's hold owes from an earlier visit
        (`card_debts.py`).
        """
        self._ledger = ledger
        self._gates = gates
        self._owes = owes
        self._card_owes = card_owes
        self._card_replay = CardReplay(ledger.db)  # a keyed digest of each tapped hold

    async def prepare(self) -> None:
        """Key the card replay records before the first tap (`card_replay.py`).

        A failure is only logged: the first tap tries again (and is refused if it cannot).
        """
        kept = timedelta(days=self._ledger.settings.retention_days + 1)
        try:
            await self._card_replay.prepare((self._ledger.clock() + kept).timestamp())
        except StorageUnavailable as err:
            _LOGGER.warning("Card replay records not keyed at start (%s); at the first tap", err)

    async def check_in_qr(self, gate_id: str, token: str) -> Decision:
        """A shopper shows the app's QR code at an entry gate."""
        started = time.perf_counter()
        find_gate(self._gates, gate_id)
        ledger = self._ledger
        settings = ledger.settings
        try:
            claims = verify_qr(
                token,
                keys=settings.keys,
                issuer=settings.issuer,
                site=settings.site,
                now=ledger.clock(),
                max_party=settings.max_party,
            )
        except CredentialRejected as err:
            return await ledger.deny(gate_id, Source.STORE_APP, err.reason.value, started)
        replay = (replay_id(settings.issuer, claims.jti), claims.expires.timestamp())
        return await self._admit(
            gate_id=gate_id,
            source=Source.STORE_APP,
            party=claims.party,
            account=claims.account,
            replay=replay,
            started=started,
            customer=claims.customer,
        )

    async def check_in_card(self, gate_id: str, token: str) -> Decision:
        """A card-terminal adapter reports a card tap (the processor's token) at an entry gate."""
        started = time.perf_counter()
        find_gate(self._gates, gate_id)
        try:
            account = check_card_token(token)
        except CredentialRejected as err:
            return await self._ledger.deny(gate_id, Source.PAYMENT_CARD, err.reason.value, started)
        if self._card_owes is not None and await self._card_owes(account):
            return await self._ledger.deny(
                gate_id, Source.PAYMENT_CARD, PAYMENT_OUTSTANDING, started
            )
        kept = timedelta(days=self._ledger.settings.retention_days + 1)  # its checkout's life
        expires = (self._ledger.clock() + kept).timestamp()
        try:
            replay = (await self._card_replay.replay_id(account, expires), expires)
        except StorageUnavailable:
            denial = EntryDenial.STORAGE_UNAVAILABLE
            return await self._ledger.deny(gate_id, Source.PAYMENT_CARD, denial, started)
        return await self._admit(
            gate_id=gate_id,
            source=Source.PAYMENT_CARD,
            party=1,
            account=account,
            replay=replay,
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
        customer: str | None = None,
    ) -> Decision:
        ledger = self._ledger
        info = self._gates[gate_id]
        denial = entry_denial(
            is_entry_gate=info.gate.role is GateRole.ENTRY,
            occupancy=ledger.occupancy,
            capacity=ledger.settings.capacity,
            party=party,
        )
        if denial is not None:
            return await ledger.deny(gate_id, source, denial.value, started)
        try:  # a declined checkout not settled yet (`checkout_runner.py`, or as stored)
            owes = self._owes is not None and await self._owes(account)
        except StorageUnavailable:  # fail-secure: a debt it cannot read may be there
            return await ledger.deny(gate_id, source, EntryDenial.STORAGE_UNAVAILABLE, started)
        if owes:
            return await ledger.deny(gate_id, source, PAYMENT_OUTSTANDING, started)
        session = new_session(
            source=source.value,
            gate=gate_id,
            party=party,
            account=account,
            now=ledger.clock(),
            customer=customer,
        )
        ledger.occupancy += party  # reserved now: concurrent check-ins see it
        ledger.counters["people_in"] += party
        ledger.remember(session)
        events = [
            ledger.event(
                EventType.CHECK_IN,
                Outcome.OK,
                portal=gate_id,
                visit=session.visit_id,
                source=source,
                data={"track": session.track_id, "party_size": party},
            ),
            ledger.occupancy_event(),
        ]
        occupancy = ledger.occupancy
        try:
            await ledger.db.call(lambda store: store.check_in(session, replay, occupancy, events))
        except (Replayed, StorageUnavailable) as err:
            ledger.occupancy -= party
            ledger.counters["people_in"] -= party
            ledger.forget(session)
            reason = "replayed" if isinstance(err, Replayed) else EntryDenial.STORAGE_UNAVAILABLE
            return await ledger.deny(gate_id, source, reason, started)
        ledger.activity.saw(events, ledger.clock())
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
                occupancy=ledger.occupancy,
                decided_ms=decided,
            )
        decided = (time.perf_counter() - started) * 1000
        ledger.counters["checked_in"] += 1
        ledger.passing[gate_id] = session.visit_id
        ledger.opened(session)
        await ledger.add_event(
            ledger.event(EventType.GATE_OPENED, Outcome.OK, portal=gate_id, visit=session.visit_id)
        )
        return Decision(
            gate=gate_id,
            opened=True,
            outcome=Outcome.OK,
            visit_id=session.visit_id,
            track_id=session.track_id,
            occupancy=ledger.occupancy,
            decided_ms=decided,
        )

    async def _abort(self, session: Session, gate_id: str, reason: str) -> None:
        _LOGGER.warning("Gate %s could not be opened (%s); check-in aborted", gate_id, reason)
        ledger = self._ledger
        ledger.forget(session)
        before = ledger.occupancy
        ledger.occupancy = after_exit(ledger.occupancy, session.party)
        ledger.counters["people_in"] -= before - ledger.occupancy
        events = [
            ledger.event(
                EventType.VISIT_ABORTED,
                Outcome.FAILED,
                portal=gate_id,
                visit=session.visit_id,
                reason=reason,
            ),
            ledger.occupancy_event(),
        ]
        occupancy, now = ledger.occupancy, ledger.clock()
        await ledger.write(
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
