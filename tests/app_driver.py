"""Driving helsesim-app in Debian's Chromium with Playwright: start the server on a free loopback
port, open a browser, and the few gestures the tests and scripts/app_screenshots.py make."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from conftest import CLI_ENV, script

CHROMIUM = os.environ.get("HELSESIM_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags known to work on this project's machines (no sandbox as root, no background
#: traffic to Google's services).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_MS = 60_000
#: Nothing listens there: an outside request the server made would fail and show in its log.
DEAD_PROXY = "http://127.0.0.1:9"
#: What the server's log says when it tried to reach the outside world.
EGRESS_SIGNS = ("Could not load URL", "ProxyError", "Max retries exceeded")


class AppFailed(RuntimeError):
    """The app did not start or did not answer."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(log: Path, timeout: float = 90.0) -> Iterator[str]:
    """``helsesim-app`` on a free loopback port behind a dead proxy; yields its URL and stops it
    (and the runner's workers it started: its whole process group) at the end."""
    port = free_port()
    env = {**CLI_ENV, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[var] = DEAD_PROXY
    with open(log, "w") as out:
        proc = subprocess.Popen([*script("helsesim-app"), "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AppFailed(f"helsesim-app exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AppFailed(f"helsesim-app did not answer on {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def browser(profile: Path, width: int = 1600, height: int = 1000):
    """Debian's Chromium, headless, with a fresh profile; yields a Playwright browser context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": width, "height": height}, accept_downloads=True)
        try:
            yield ctx
        finally:
            ctx.close()


def is_local(url: str) -> bool:
    """Whether a URL the page asked for stays on this machine."""
    p = urlparse(url)
    return p.scheme in ("data", "blob", "about") or p.hostname in LOOPBACK


def choose(pg, select_class: str, option: str) -> None:
    """Pick an option of a Vuetify select."""
    pg.locator(f".{select_class}").click()
    pg.get_by_role("option", name=option, exact=True).click()
    pg.keyboard.press("Escape")


def slide(pg, lever: str, presses: int, key: str = "ArrowRight") -> None:
    """Move a lever's slider by keyboard, one step per press."""
    thumb = pg.locator(f".helsesim-lever-{lever} [role=slider]")
    thumb.focus()
    for _ in range(presses):
        thumb.press(key)


def side_by_side(pg) -> dict[str, dict[str, str]]:
    """The side-by-side table: outcome -> {baseline, arm, difference: median; better: count}."""
    cells = pg.locator(".helsesim-side-by-side td[data-col]")
    out: dict[str, dict[str, str]] = {}
    for i in range(cells.count()):
        c = cells.nth(i)
        outcome = c.evaluate("td => td.parentElement.dataset.outcome")
        col = c.get_attribute("data-col")
        text = c.locator(".median").inner_text() if col != "better" else c.inner_text()
        out.setdefault(outcome, {})[col] = text
    return out


def wait_for_run(pg, described: str) -> None:
    """Wait until a run whose description contains ``described`` is shown, with its map."""
    pg.locator(".helsesim-described", has_text=described).wait_for(timeout=TIMEOUT_MS)
    pg.locator(".helsesim-brief").wait_for(timeout=TIMEOUT_MS)
    img = pg.locator(".helsesim-map img")
    img.wait_for(timeout=TIMEOUT_MS)
    pg.wait_for_function("img => img.complete && img.naturalWidth > 300",
                         arg=img.element_handle(), timeout=TIMEOUT_MS)
