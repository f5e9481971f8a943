"""Run the ``helsesim`` console script with faults injected (tests only):

    python tests/cli_driver.py '{"fail_runs": [1, 6]}' <helsesim arguments>
    python tests/cli_driver.py '{"strike": ["figure", 2, "kill"]}' <helsesim arguments>

The faults (tests/faults.py) are patched into this process, then ``helsesim.cli.main()`` runs
as the console script would: nothing in helsesim reads a test hook from the environment.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import faults  # noqa: E402

from helsesim import cli  # noqa: E402
from helsesim.runner import job  # noqa: E402


def main() -> None:
    spec = json.loads(sys.argv.pop(1))
    if spec.get("fail_runs"):
        cli.run_experiment = functools.partial(
            job.run_experiment, before_run=faults.FailRuns(frozenset(spec["fail_runs"])))
    if spec.get("strike"):
        faults.strike_at(*spec["strike"])
    cli.main()


if __name__ == "__main__":
    main()
