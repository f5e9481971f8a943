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
