"""The ``helsesim`` console script: a thin Hydra entry point over
:func:`helsesim.experiment.run_experiment`.

    helsesim                                      # compare_allocation (the default experiment)
    helsesim experiment=way_forward               # conf/experiment/way_forward.yaml
    helsesim experiment.n_seeds=5 years=5 levers.compensation=1
    helsesim -m allocation=open_call,governance_led levers.compensation=0,0.5,1
    helsesim --cfg job                            # show the composed configuration

Results go to ``results/<experiment>/<time>/`` (``hydra.run.dir``); a multirun writes one
folder per job under ``results/multirun/<time>/`` and gathers them at its root.
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from helsesim.config import ConfigError
from helsesim.experiment import CONF_DIR, restrict_to_design, run_experiment
from helsesim.hydra_schema import register_configs

log = logging.getLogger(__name__)

register_configs()  # the schema must be in the ConfigStore before Hydra composes


# An absolute path: Hydra resolves a relative config_path against the *module* when the
# function is imported (as by a console script), i.e. as the Python package `conf`, which
# does not exist. CONF_DIR is the repository's conf/ (editable install or checkout).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    if restrict_to_design(cfg, overrides):
        log.info("allocation chosen on the command line: running only %s",
                 cfg.allocation.design)
    if hc.mode == RunMode.MULTIRUN and cfg.experiment.figures:
        # the jobs of a sweep are drawn together when the sweep is gathered
        with open_dict(cfg):
            cfg.experiment.figures = False
    try:
        run_experiment(cfg, hc.runtime.output_dir, overrides=overrides)
    except ConfigError as e:  # a value out of range: one clear line, not a traceback
        log.error("invalid configuration: %s", e)
        sys.exit(2)


if __name__ == "__main__":
    main()
