"""helsesim: an agent-based model of Norwegian health communities and the RS grant.

``simulate`` runs one simulation; ``compose_config`` and ``run_experiment`` run an experiment
(arms x paired seeds into a job folder: :mod:`helsesim.runner`, imported when first used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helsesim.api import Result, build_config, run_config, simulate
from helsesim.config import ConfigError, SimConfig

if TYPE_CHECKING:
    from helsesim.runner.compose import compose_config
    from helsesim.runner.job import ExperimentResult, run_experiment
    from helsesim.runner.plan import plan_experiment

__version__ = "0.1.0"
__all__ = ["simulate", "run_config", "build_config", "Result", "SimConfig", "ConfigError",
           "compose_config", "plan_experiment", "run_experiment", "ExperimentResult",
           "__version__"]


def __getattr__(name: str) -> object:
    """The runner's public names (:mod:`helsesim.runner`), imported when first used: Hydra and
    the runner are not imported by ``import helsesim`` (nor by every worker process)."""
    if name in ("compose_config", "plan_experiment", "run_experiment", "ExperimentResult"):
        from helsesim import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
