"""The Access panel's grant list in headless Chromium: time to the first paint of its rows.

Run: .venv/bin/python -m pytest bench/bench_panel_paint.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

The committed bundle on the browser tests' harness page (tests/browser/): the WebSocket
stand-in answers the subscription at once, so this is the panel's own work — from putting
<concierge-panel> on the page until the frame after its rows are in the DOM (two animation
frames: the rows laid out and painted). 500 grants against 10, median of 7 runs each on a
fresh page, and the ratio. Reported, never asserted (the goal, ≤ 1 s at 500, is checked by
eye in the README's figures), except that every row is there.
"""

import statistics

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import browser, in_browser_thread, open_harness  # noqa: F401

RUNS = 7

PAINT = """async (count) => {
  const t0 = performance.now();
  const panel = document.createElement("concierge-panel");
  panel.hass = window.makeHass({ count });
  document.body.appendChild(panel);
  await new Promise((resolve) => {
    const check = () => {
      const rows = panel.shadowRoot?.querySelectorAll("tr.grant").length ?? 0;
      if (rows === count) resolve();
      else requestAnimationFrame(check);
    };
    check();
  });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """No in-process Home Assistant: none of its cleanup checks (see tests/browser)."""


def _paint_ms(chromium: Browser, count: int) -> float:
    page = open_harness(chromium)
    try:
        return float(page.evaluate(PAINT, count))
    finally:
        page.close()


@in_browser_thread
def test_bench_panel_first_paint_of_rows(browser: Browser) -> None:  # noqa: F811
    """Print the first paint of 10 and 500 grants' rows, and their ratio."""
    _paint_ms(browser, 10)  # warm the browser's code cache
    small = [_paint_ms(browser, 10) for _ in range(RUNS)]
    large = [_paint_ms(browser, 500) for _ in range(RUNS)]
    s, lg = statistics.median(small), statistics.median(large)
    print(
        f"\npanel first paint of rows: 10 grants {s:.0f} ms (min {min(small):.0f}), "
        f"500 grants {lg:.0f} ms (min {min(large):.0f}, max {max(large):.0f}); "
        f"ratio {lg / s:.1f}x"
    )
