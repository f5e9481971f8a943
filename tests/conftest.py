"""Shared test setup: a headless matplotlib backend and a Hydra compose helper."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

#: Overrides that make any experiment tiny and serial (for tests).
TINY = ["years=2", "experiment.n_seeds=1", "experiment.n_jobs=1", "experiment.progress=false"]


@pytest.fixture
def compose():
    """``compose(overrides) -> DictConfig``: conf/config.yaml composed as `helsesim` does."""
    from helsesim.experiment import compose_config

    return compose_config
