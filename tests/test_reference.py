"""Reference experiments: small fixed-seed versions of the shipped experiments must reproduce
the results committed under results/reference/<name>/ (runs.csv, summary.csv).

If a change of the model or its calibration is meant to change them, regenerate them on
purpose with ``python scripts/regenerate_reference.py`` and commit the diff with the change.
"""

from __future__ import annotations

import dataclasses
import io
import json

import pandas as pd
import pytest

from helsesim.runner.manifest import flat_config as flat
from helsesim.runner.reference import (
    REFERENCE_DIR,
    REFERENCES,
    run_reference,
    to_reference_csv,
)

REGENERATE = "python scripts/regenerate_reference.py"


def test_every_shipped_experiment_has_a_reference():
    """Every experiment the runner runs as it is; the workbench's analyses
    (``experiment.analysis``) are run end to end by tests/test_workbench.py instead."""
    from helsesim.runner.compose import CONF_DIR, compose_config

    shipped = {p.stem for p in (CONF_DIR / "experiment").glob("*.yaml")
               if compose_config([f"experiment={p.stem}"]).experiment.analysis == "none"}
    assert shipped == set(REFERENCES)
    assert {p.name for p in REFERENCE_DIR.iterdir() if p.is_dir()} == set(REFERENCES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_experiment_reproduces(name):
    ref = REFERENCE_DIR / name
    meta = json.loads((ref / "config.json").read_text())
    assert meta["overrides"] == REFERENCES[name], (
        f"the reference definition of {name} changed: run `{REGENERATE} {name}`")
    res, tables = run_reference(meta["overrides"])
    # a changed default explains a changed result: name it first
    old_cfg = flat(meta["config"])
    new_cfg = flat(json.loads(json.dumps(dataclasses.asdict(res.plan.config), default=str)))
    changed = {k: (old_cfg.get(k), new_cfg.get(k)) for k in old_cfg.keys() | new_cfg.keys()
               if old_cfg.get(k) != new_cfg.get(k)}
    assert not changed, (f"the configuration of reference {name} changed (old, new): {changed}; "
                         f"if intended, run `{REGENERATE} {name}` and commit the diff")
    for table in ("runs", "summary"):
        expected = pd.read_csv(ref / f"{table}.csv")
        got = pd.read_csv(io.StringIO(to_reference_csv(tables[table])))
        try:
            pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12,
                                          atol=1e-12, obj=f"{name}/{table}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n\nThe results of reference {name} changed. If the change "
                                 f"is intended, run `{REGENERATE} {name}` and commit the diff."
                                 ) from None
