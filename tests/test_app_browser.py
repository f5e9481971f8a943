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
import sys
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from app_driver import (
    CHROMIUM,
    EGRESS_SIGNS,
    TIMEOUT_MS,
    AppFailed,
    browser,
    choose,
    is_local,
    serve,
    side_by_side,
    slide,
    wait_for_run,
)

ARTIFACTS = Path(__file__).parent / "artifacts"


def _need(condition: bool, what: str) -> None:
    """Skip where the app extra is absent on a developer's machine; fail in CI (which installs
    it: a skipped browser test there would hide a failure)."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{what} (CI must install it: see .ci/run)")
        pytest.skip(what)


try:
    import playwright.sync_api  # noqa: F401
    import solara  # noqa: F401

    HAVE_APP = True
except ImportError:  # pragma: no cover - depends on the install
    HAVE_APP = False


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app served by its console script on a free loopback port; afterwards its log must
    show no attempt to reach the outside world."""
    _need(HAVE_APP, "the app extra is not installed: pip install -e '.[app]'")
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium")
    log = tmp_path_factory.mktemp("app") / "server.log"
    try:
        with serve(log) as url:
            yield url
    except AppFailed as e:
        pytest.fail(str(e))
    text = log.read_text()
    assert not any(s in text for s in EGRESS_SIGNS), f"the server reached out:\n{text}"


@pytest.fixture(scope="module")
def browser_context(app_url, tmp_path_factory):
    with browser(tmp_path_factory.mktemp("chromium-profile")) as ctx:
        yield ctx


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
    outside = [u for u in urls if not is_local(u)]
    assert not outside, f"the page requested URLs outside 127.0.0.1: {outside[:10]}"
    assert any(urlparse(u).scheme in ("ws", "wss") for u in urls), "no websocket seen"


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path))
    return path


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
    # the count is redrawn after the year's label: wait for it too (a loaded machine showed
    # "year 1" here)
    pg.locator(".helsesim-step-count", has_text="in year 2:").wait_for(timeout=TIMEOUT_MS)
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
