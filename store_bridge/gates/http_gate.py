"""A gate behind an HTTP controller: one request opens it.

Vendor controllers take an HTTP call to release a turnstile or a door, for example
ControlID's ``POST /execute_actions.fcgi`` with ``{"actions": [{"action": "catra", ...}]}``.
`HttpGate` sends the configured method and JSON body to the configured URL, with an
optional bearer token, and reads only the status: 2xx means issued.

Errors: another status is ``gate_refused`` (``HTTP <status>``), no answer within the
timeout is ``gate_no_answer``, a connection that cannot be made (refused, unknown host) is
``gate_unreachable``. The token, and anything in the URL's query or user part (some vendors
put a session key there), never appear in logs, reprs or error texts.

Passages of HTTP controllers reach the bridge through its web API (the controller calls
back); the bridge hands them to `HttpGate.report`.
"""

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

from .base import GateBase, GateError, GateRole, GateSignal, SignalCallback, SignalKind

_LOGGER = logging.getLogger(__name__)


def _shown(url: str) -> str:
    """The URL without its user, password, query and fragment: safe to log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class HttpGate(GateBase):
    """A gate opened by one HTTP request to its controller."""

    def __init__(  # noqa: PLR0913 - a gate is configured by keyword
        self,
        gate_id: str,
        role: GateRole,
        url: str,
        *,
        method: str = "POST",
        body: Mapping[str, object] | None = None,
        token: str | None = None,
        timeout: float = 2.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Configure the gate; `session` is shared (and left open), else one is made in `start`.

        `body` defaults to ``{"action": "open", "gate": <gate_id>}``.
        """
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or timeout <= 0:
            msg = f"an http(s) URL and a positive timeout are needed, not {_shown(url)!r}"
            raise ValueError(msg)
        super().__init__(gate_id, role)
        self._url = url
        self._method = method.upper()
        self._body = dict(body) if body is not None else {"action": "open", "gate": gate_id}
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session: aiohttp.ClientSession | None = None
        self._on_signal: SignalCallback | None = None

    def __repr__(self) -> str:
        """Name the gate and its controller (never the token)."""
        token = "<hidden>" if self._headers else "None"
        return (
            f"HttpGate(gate_id={self._gate_id!r}, role={self._role.value!r}, "
            f"method={self._method!r}, url={_shown(self._url)!r}, token={token})"
        )

    async def start(self, on_signal: SignalCallback) -> None:
        """Keep the callback for `report`; open a session unless one was given."""
        self._on_signal = on_signal
        if self._session is None:
            self._session = self._own_session = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Forget the callback; close the session if this gate opened it."""
        self._on_signal = None
        if self._own_session is not None:
            await self._own_session.close()
            self._session = self._own_session = None

    async def open(self) -> None:
        """Send the open request; return once the controller accepted it (2xx)."""
        if self._session is None:
            raise GateError("gate_unreachable", "the gate is not started")
        where = _shown(self._url)
        try:
            async with self._session.request(
                self._method,
                self._url,
                json=self._body,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                status = response.status
        except TimeoutError:
            msg = f"{where} did not answer within {self._timeout.total:g} s"
            raise GateError("gate_no_answer", msg) from None
        except aiohttp.ClientError as err:
            raise GateError("gate_unreachable", f"{where}: {type(err).__name__}") from None
        if not 200 <= status < 300:  # noqa: PLR2004 - the 2xx class
            raise GateError("gate_refused", f"HTTP {status}")
        _LOGGER.debug("%s: %s %s answered %s", self._gate_id, self._method, where, status)

    def report(self, kind: SignalKind) -> None:
        """Forward a signal the controller reported (through the web API) to the bridge.

        Dropped (logged at debug) while the gate is not started.
        """
        if self._on_signal is None:
            _LOGGER.debug("%s: %s reported while stopped, dropped", self._gate_id, kind.value)
            return
        self._on_signal(GateSignal(self._gate_id, kind))
