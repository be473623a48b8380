"""Browser tests of the Access panel: Playwright driving Debian's chromium (never a download).

`browser` is one headless Chromium per module; `shots` writes a step's screenshot to
artifacts/browser/<test>/ (gitignored) so a person can look at what the test saw.

Playwright's sync API runs an event loop of its own, which cannot share the test thread
with pytest-asyncio's: the browser lives in one worker thread, and a test marked
`@in_browser_thread` runs its body there.
"""

import functools
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).parent.parent.parent
BUNDLE = ROOT / "custom_components" / "concierge" / "frontend" / "concierge-panel.js"
CARD = ROOT / "custom_components" / "concierge" / "frontend" / "concierge-door-card.js"
HARNESS = Path(__file__).parent / "harness.js"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HARNESS_ORIGIN = "http://panel.test"
HARNESS_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0"><script type="module">
import "/concierge-panel.js";
import "/concierge-door-card.js";
import { makeHass } from "/harness.js";
window.makeHass = makeHass;
window.harnessReady = true;
</script></body></html>"""


_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")


def in_browser_thread[**P, R](test: Callable[P, R]) -> Callable[P, R]:
    """Run a test's body in the browser's thread (its fixtures are made as usual)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return _THREAD.submit(test, *args, **kwargs).result()

    return run


def _launch() -> tuple[Playwright, Browser]:
    """Debian's chromium, headless, with nothing that reaches out to the internet."""
    api = sync_playwright().start()
    chromium = api.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    # A first page starts the threads Playwright keeps (its loop's executor), so that they
    # exist before a test begins and do not count as left behind by it.
    open_harness(chromium).close()
    return api, chromium


def _close(api: Playwright, chromium: Browser) -> None:
    chromium.close()
    api.stop()


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """No in-process Home Assistant here, so none of its cleanup checks (they replace
    pytest-homeassistant-custom-component's, which counts Playwright's worker threads as
    threads a test left behind)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for a module's tests; use it only in an @in_browser_thread test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    api, chromium = _THREAD.submit(_launch).result()
    yield chromium
    _THREAD.submit(_close, api, chromium).result()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """shots(page, "step") writes artifacts/browser/<test>/<nn>-step.png."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 100))

    def shoot(page: Page, step: str, *, full_page: bool = True) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return shoot


def open_harness(browser: Browser, *, width: int = 1280, height: int = 800) -> Page:
    """A page that serves the committed bundles (panel, door card) and the in-memory
    WebSocket stand-in."""
    page = browser.new_page(viewport={"width": width, "height": height})
    files = {"/concierge-panel.js": BUNDLE, "/concierge-door-card.js": CARD, "/harness.js": HARNESS}

    def serve(route: object) -> None:
        path = route.request.url.removeprefix(HARNESS_ORIGIN)  # type: ignore[attr-defined]
        if path in files:
            route.fulfill(  # type: ignore[attr-defined]
                body=files[path].read_bytes(), content_type="text/javascript"
            )
        else:
            route.fulfill(body=HARNESS_PAGE, content_type="text/html")  # type: ignore[attr-defined]

    page.route(f"{HARNESS_ORIGIN}/**", serve)
    page.goto(f"{HARNESS_ORIGIN}/")
    page.wait_for_function("window.harnessReady === true")
    return page


def mount(page: Page, **options: Any) -> None:
    """Put a <concierge-panel> with a stand-in hass on the page (options go to makeHass)."""
    page.evaluate(
        """(options) => {
            const panel = document.createElement("concierge-panel");
            panel.hass = window.makeHass(options);
            panel.narrow = window.innerWidth < 870;
            window.panel = panel;
            document.body.appendChild(panel);
        }""",
        options,
    )


def mount_card(page: Page, config: dict[str, Any], **options: Any) -> None:
    """Put a <concierge-door-card> (config as a dashboard gives it) with a stand-in hass."""
    page.evaluate(
        """([config, options]) => {
            const card = document.createElement("concierge-door-card");
            card.setConfig(config);
            card.hass = window.makeHass(options);
            card.style.cssText = "display:block;width:400px;margin:16px";
            window.card = card;
            document.body.appendChild(card);
        }""",
        [config, options],
    )
