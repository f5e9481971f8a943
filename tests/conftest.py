"""Shared test setup: a headless matplotlib backend, a Hydra compose helper and the console
scripts run as a user would."""

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

#: Overrides that make any experiment tiny and serial (for tests).
TINY = ["years=2", "experiment.n_seeds=1", "experiment.n_jobs=1", "experiment.progress=false"]
BIN = Path(sys.executable).parent
#: The environment of a console script run by a test.
CLI_ENV = {**os.environ, "MPLBACKEND": "Agg", "HYDRA_FULL_ERROR": "1"}


def script(name: str) -> list[str]:
    """The installed console script, or its module run by this Python."""
    path = BIN / name
    if path.exists():
        return [str(path)]
    module = {"helsesim": "helsesim.cli", "helsesim-report": "helsesim.report",
              "helsesim-app": "helsesim.app.server"}[name]
    return [sys.executable, "-m", module]


def run_cli(args: list[str], cwd: Path, name: str = "helsesim", env: dict | None = None,
            status: int = 0, faults: dict | None = None) -> subprocess.CompletedProcess:
    """Run a console script; require its exit status. ``faults`` runs ``helsesim`` through
    the test driver (tests/cli_driver.py), which patches them in first."""
    res = subprocess.run([*(driver(faults) if faults else script(name)), *args], cwd=cwd,
                         env=env or CLI_ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == status, res.stdout + res.stderr
    return res


def driver(faults: dict) -> list[str]:
    """The command that runs ``helsesim`` with faults injected (tests/cli_driver.py)."""
    return [sys.executable, str(Path(__file__).parent / "cli_driver.py"), json.dumps(faults)]


@pytest.fixture
def compose():
    """``compose(overrides) -> DictConfig``: conf/config.yaml composed as `helsesim` does."""
    from helsesim.runner import compose_config

    return compose_config


def read(job: Path, table: str):
    import pandas as pd

    return pd.read_parquet(job / f"{table}.parquet")


def assert_same_tables(a: Path | dict, b: Path | dict) -> None:
    """Every per-run table equal, bit for bit, after sorting by run_id."""
    import pandas as pd

    from helsesim.runner.tables import TABLES

    for t in TABLES:
        x = read(a, t) if isinstance(a, Path) else a[t]
        y = read(b, t) if isinstance(b, Path) else b[t]
        key = ["run_id"] + [c for c in ("year", "municipality_id", "community", "project_id")
                            if c in x.columns]
        x = x.sort_values(key, kind="stable").reset_index(drop=True)
        y = y.sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=t)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
