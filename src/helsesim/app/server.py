"""``helsesim-app``: serve the app with Solara on this machine (127.0.0.1 by default).

The Solara server is started through Solara's own command line, offline: its JavaScript and
CSS come from the ``solara-assets`` package (pinned to the same version as ``solara``), the
check of PyPI for a newer Solara and Solara's usage telemetry are switched off before Solara is
imported, so the app makes no request outside the machine.
"""

from __future__ import annotations

import argparse
import os
import sys

#: Solara settings read from the environment when Solara is imported: no telemetry, and the
#: front-end assets served by this server (from solara-assets) rather than from a CDN.
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "helsesim",
}
APP = "helsesim.app.page"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="helsesim-app",
        description="The helsesim app in your browser: choose a health community, designs and "
                    "levers, run paired seeds and read the decision brief.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8765,
                        help="port to serve on (default: 8765; 0: any free port)")
    parser.add_argument("--open", action="store_true", help="open the app in a web browser")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        from solara.__main__ import cli
    except ImportError:
        print("helsesim-app needs the app extra: pip install 'helsesim[app]'", file=sys.stderr)
        return 2
    print(f"helsesim app: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    cli.main(["run", APP, "--host", args.host, "--port", str(args.port), "--production",
              "--no-check-version", "--open" if args.open else "--no-open",
              "--log-level", "warning"], prog_name="helsesim-app", standalone_mode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
