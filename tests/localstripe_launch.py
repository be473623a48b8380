"""Runs localstripe's application on 127.0.0.1 for the tests (see tests/localstripe_server.py).

``python tests/localstripe_launch.py PORT``: localstripe 1.15.10 on 127.0.0.1:PORT only, from an
empty state, never reading or writing ``/tmp/localstripe.pickle``; ``off_session`` accepted
on a confirmation (as at Stripe) and every confirmation listed at ``GET
/_config/confirmations``.
"""

import sys
from typing import Any

from aiohttp import web
from localstripe import resources

HOST = "127.0.0.1"


def serve(port: int) -> None:
    """Run localstripe's application on 127.0.0.1:``port`` (see the module's docstring)."""
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    confirmations: list[dict[str, Any]] = []
    original = resources.PaymentIntent._api_confirm

    def confirm(id: str, off_session: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        confirmations.append({"payment": id, "off_session": off_session in {True, "true"}})
        return original(id, **kwargs)

    resources.extra_apis[:] = [
        (method, url, confirm if func == original else func)
        for method, url, func in resources.extra_apis
    ]
    from localstripe import server  # noqa: PLC0415 - after the routes are patched

    async def list_confirmations(_request: web.Request) -> web.Response:
        return web.json_response(confirmations)

    server.app.router.add_get("/_config/confirmations", list_confirmations)
    web.run_app(server.app, host=HOST, port=port, access_log=None, print=None)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
