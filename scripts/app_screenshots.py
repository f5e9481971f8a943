"""Take the README's screenshots of helsesim-app: docs/app-overview.png and docs/app-compare.png.

Starts the app on a free loopback port and drives it in Debian's Chromium, as the browser tests
do (tests/app_driver.py): Nordland, two_stream against open_call, the compensation lever at 0.5
for both, 20 paired seeds over 10 years. Needs `pip install -e '.[app]'` and /usr/bin/chromium.

    python scripts/app_screenshots.py [out_dir]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_driver import TIMEOUT_MS, browser, serve, slide, wait_for_run  # noqa: E402

__all__ = ["main"]


def main(out_dir: Path = ROOT / "docs") -> None:
    tmp = Path(tempfile.mkdtemp(prefix="helsesim-shots-"))
    with serve(tmp / "server.log") as url, browser(tmp / "profile", 1600, 1000) as ctx:
        pg = ctx.new_page()
        pg.goto(url)
        pg.locator(".helsesim-run").wait_for(timeout=TIMEOUT_MS)
        slide(pg, "compensation", 5)  # 0.25 -> 0.5
        thumb = pg.locator(".helsesim-seeds [role=slider]")
        thumb.focus()
        for _ in range(10):  # 10 -> 20 paired seeds
            thumb.press("ArrowRight")
        pg.get_by_text("compensation [share]: 0.5").wait_for()
        pg.locator(".helsesim-run").click()
        wait_for_run(pg, "20 paired seeds")
        pg.locator(".helsesim-community").scroll_into_view_if_needed()
        pg.mouse.move(0, 0)
        time.sleep(1)
        pg.screenshot(path=str(out_dir / "app-overview.png"))
        pg.locator(".helsesim-lever-compensation").scroll_into_view_if_needed()
        pg.locator(".helsesim-map").scroll_into_view_if_needed()  # money, cost and the map
        time.sleep(1)
        pg.screenshot(path=str(out_dir / "app-compare.png"))
    print(f"wrote {out_dir / 'app-overview.png'} and {out_dir / 'app-compare.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
