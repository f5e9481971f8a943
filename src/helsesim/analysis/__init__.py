"""The researcher's workbench: global sensitivity analysis, calibration with uncertainty and the
robustness of design rankings over plausible worlds (issue 11).

Each analysis is an experiment (``helsesim experiment=sensitivity``, ``experiment=calibrate``,
``experiment=robustness``) whose model runs go through helsesim's runner
(:func:`helsesim.experiment.run_experiment`: worker processes or Ray, resumable parts, a
manifest): a sample of parameter sets becomes the runner's arms with paired seeds. The
libraries own the methods: SALib (Morris, Sobol), pyabc (ABC-SMC), scipy.stats.qmc (Latin
hypercube) and the EMA workbench (PRIM). Nothing here imports them until an analysis runs, so
the model works without the ``helsesim[analysis]`` extra.
"""

from __future__ import annotations

#: The analyses by ``experiment.analysis``.
ANALYSES = ("sensitivity", "calibrate", "robustness")


def run(cfg, out):  # noqa: ANN001, ANN201 - DictConfig, Path -> dict (imports stay lazy)
    """Run the analysis that ``cfg.experiment.analysis`` names into the job folder ``out``."""
    import importlib
    from pathlib import Path

    name = cfg.experiment.analysis
    if name not in ANALYSES:
        raise ValueError(f"experiment.analysis: got {name!r}; allowed: {', '.join(ANALYSES)}")
    module = importlib.import_module(f"helsesim.analysis.{MODULES[name]}")
    return module.run(cfg, Path(out))


#: The module of each analysis.
MODULES = {"sensitivity": "sensitivity", "calibrate": "calibration", "robustness": "robustness"}
