"""The app in a real browser, as Mesa tests its SolaraViz: ``helsesim-app`` is started on a free
loopback port and driven in headless Chromium (Debian's, through Playwright for Python). The
tests choose a community, a design and a lever, run, and check that the map and the numbers
appear and change; the step mode plays years; a table downloads. Every request the page makes
must stay on 127.0.0.1, and the server runs behind a dead proxy so that a request it made to
the outside world would fail and show in its log. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from conftest import CLI_ENV, script

CHROMIUM = os.environ.get("HELSESIM_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags known to work on this project's machines (no sandbox as root, no background
#: traffic to Google's services).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
TIMEOUT_MS = 60_000


def _need(condition: bool, what: str) -> None:
    """Skip where the app extra is absent on a developer's machine; fail in CI (which installs
    it: a skipped browser test there would hide a failure)."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{what} (CI must install it: see .ci/run)")
        pytest.skip(what)


try:
    import solara  # noqa: F401
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the install
    sync_playwright = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app served by its console script on a free loopback port."""
    _need(sync_playwright is not None, "the app extra is not installed: pip install -e '.[app]'")
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium")
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    dead_proxy = "http://127.0.0.1:9"  # nothing listens: any outside request the server makes fails
    env = {**CLI_ENV, "HTTP_PROXY": dead_proxy, "HTTPS_PROXY": dead_proxy,
           "http_proxy": dead_proxy, "https_proxy": dead_proxy, "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost"}
    with open(log, "w") as out:
        proc = subprocess.Popen([*script("helsesim-app"), "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"helsesim-app exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"helsesim-app did not answer on {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the runner's workers it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    for sign in ("Could not load URL", "ProxyError", "Max retries exceeded"):
        assert sign not in text, f"the server tried to reach the outside world:\n{text}"


@pytest.fixture(scope="module")
def browser_context(app_url, tmp_path_factory):
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1600, "height": 1000},
            accept_downloads=True)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(browser_context, app_url, request):
    """A fresh page (a new Solara session) that records every URL it asks for, and fails the
    test if one leaves 127.0.0.1."""
    pg = browser_context.new_page()
    urls: list[str] = []
    pg.on("request", lambda r: urls.append(r.url))
    pg.on("websocket", lambda ws: urls.append(ws.url))
    pg.goto(app_url)
    pg.locator(".helsesim-run").wait_for(timeout=TIMEOUT_MS)
    yield pg
    shot(pg, f"{request.node.name}-end")
    pg.close()
    outside = [u for u in urls if not _local(u)]
    assert not outside, f"the page requested URLs outside 127.0.0.1: {outside[:10]}"
    assert any(urlparse(u).scheme in ("ws", "wss") for u in urls), "no websocket seen"


def _local(url: str) -> bool:
    p = urlparse(url)
    if p.scheme in ("data", "blob", "about"):
        return True
    return p.hostname in LOOPBACK or f"[{p.hostname}]" in LOOPBACK


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path))
    return path


def choose(pg, select_class: str, option: str) -> None:
    """Pick an option of a Vuetify select."""
    pg.locator(f".{select_class}").click()
    pg.get_by_role("option", name=option, exact=True).click()
    pg.keyboard.press("Escape")


def slide(pg, lever: str, presses: int, key: str = "ArrowRight") -> None:
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
    pg.wait_for_function("img => img.complete && img.naturalWidth > 300", arg=img.element_handle(),
                         timeout=TIMEOUT_MS)


def test_choose_run_and_change_a_lever(page):
    pg = page
    choose(pg, "helsesim-community", "Helgeland")
    pg.get_by_text("Helgelandssykehuset HF").wait_for()
    choose(pg, "helsesim-design", "governance_led")
    slide(pg, "compensation", 5)  # 0.25 + 5 x 0.05
    pg.get_by_text("compensation [share]: 0.5").wait_for()
    shot(pg, "app-choices")

    pg.locator(".helsesim-run").click()
    wait_for_run(pg, "compensation=0.5")
    described = pg.locator(".helsesim-described").inner_text()
    assert "governance_led against open_call" in described and "Helgeland" in described
    before = side_by_side(pg)
    assert {"gini_benefit_per_capita", "uncompensated_task_shift_cost", "vacancy_rate"} <= set(
        before)
    gini = before["gini_benefit_per_capita"]
    assert all(re.fullmatch(r"[+-]?[\d.]+", gini[c]) for c in ("baseline", "arm", "difference"))
    assert re.fullmatch(r"\d+ of 10", gini["better"])
    brief = pg.locator(".helsesim-brief").inner_text()
    assert brief.startswith("Decision brief") and "open_call" in brief
    shot(pg, "app-overview")

    # the trust pays all of a transferred service: the uncompensated cost falls to zero
    slide(pg, "compensation", 10)
    pg.get_by_text("compensation [share]: 1").wait_for()
    pg.get_by_text("The choices on the left changed").wait_for()
    pg.locator(".helsesim-run").click()
    wait_for_run(pg, "compensation=1.0")
    after = side_by_side(pg)
    assert after["uncompensated_task_shift_cost"] != before["uncompensated_task_shift_cost"]
    cost = after["uncompensated_task_shift_cost"]
    assert (cost["baseline"], cost["arm"]) == ("0", "0"), cost
    shot(pg, "app-overview-changed")

    pg.get_by_role("tab", name="Over time").click()
    pg.locator(".helsesim-time-series img").wait_for(timeout=TIMEOUT_MS)
    pg.get_by_role("tab", name="Distributions").click()
    pg.locator(".helsesim-differences img").wait_for(timeout=TIMEOUT_MS)
    shot(pg, "app-distributions")

    pg.get_by_role("tab", name="Tables").click()
    with pg.expect_download(timeout=TIMEOUT_MS) as download:
        pg.get_by_role("button", name="summary.csv").click()
    summary = pd.read_csv(io.StringIO(Path(download.value.path()).read_text()))
    assert set(summary["arm"]) == {"governance_led", "open_call"}
    row = summary.query("arm == 'governance_led' and outcome == 'uncompensated_task_shift_cost'")
    assert row["median"].iloc[0] == 0.0


def test_step_mode_plays_year_by_year(page):
    pg = page
    pg.locator(".helsesim-run").wait_for()
    pg.get_by_role("tab", name="Step by step").click()
    year = pg.locator(".helsesim-step-year")
    year.wait_for(timeout=TIMEOUT_MS)
    assert year.inner_text() == "Year 0 of 10"
    for n in (1, 2):
        pg.get_by_role("button", name="Step", exact=True).click()
        pg.locator(".helsesim-step-year", has_text=f"Year {n} of 10").wait_for(
            timeout=TIMEOUT_MS)
    pg.locator(".helsesim-step-map img").wait_for(timeout=TIMEOUT_MS)
    assert re.fullmatch(r"Projects funded in year 2: \d+",
                        pg.locator(".helsesim-step-count").inner_text())
    shot(pg, "app-step")
    pg.get_by_role("button", name="Reset", exact=True).click()
    pg.locator(".helsesim-step-year", has_text="Year 0 of 10").wait_for(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module", autouse=True)
def _fresh_artifacts():
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    yield


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
