"""The reference experiments (CI): small fixed-seed versions of the shipped experiments whose
expected results are committed under ``results/reference/<name>/``.

``tests/test_reference.py`` reruns them and requires equality; ``python
scripts/regenerate_reference.py`` rewrites them on purpose.
"""

from __future__ import annotations

import pandas as pd

from helsesim.config import SimConfig
from helsesim.runner.compose import CONF_DIR, compose_config
from helsesim.runner.job import ExperimentResult, run_experiment
from helsesim.runner.tables import RUN_KEYS, flat_inputs

#: The overrides of each reference experiment.
REFERENCES: dict[str, list[str]] = {
    "compare_allocation": ["experiment=compare_allocation", "experiment.n_seeds=3", "years=5"],
    "way_forward": ["experiment=way_forward", "experiment.n_seeds=2", "years=5"],
    "national": ["experiment=national", "experiment.n_seeds=1", "years=3"],
}
REFERENCE_DIR = CONF_DIR.parent / "results" / "reference"
#: How reference runs are executed: serially, in this process, without figures. The results
#: do not depend on these (parallel == serial), so they are not part of the reference.
REFERENCE_RUN = ["experiment.n_jobs=1", "experiment.progress=false", "experiment.figures=false"]
#: Floats are written with 17 significant digits, enough to read back the same double.
REFERENCE_FLOAT = "%.17g"


def reference_tables(res: ExperimentResult) -> dict[str, pd.DataFrame]:
    """The compared part of a reference experiment: every run's keys and outcomes (``runs``)
    and the medians and intervals per arm (``summary``)."""
    runs = res.tables["runs"]
    inputs = set(flat_inputs(SimConfig()))
    keys = ["run_id", "arm", "design", "replicate", "seed", "status"]
    outcomes = [c for c in runs.columns if c not in inputs and c not in RUN_KEYS]
    return {"runs": runs[keys + outcomes], "summary": res.tables["summary"]}


def to_reference_csv(df: pd.DataFrame) -> str:
    """A table as the CSV text stored under results/reference/."""
    return df.to_csv(index=False, float_format=REFERENCE_FLOAT, lineterminator="\n")


def run_reference(overrides: list[str]) -> tuple[ExperimentResult, dict[str, pd.DataFrame]]:
    """Run a reference experiment from its overrides."""
    res = run_experiment(compose_config([*overrides, *REFERENCE_RUN]))
    return res, reference_tables(res)
