"""The researcher's workbench: global sensitivity analysis, calibration with uncertainty and the
robustness of design rankings over plausible worlds (issue 11).

Each analysis is an experiment (``helsesim experiment=sensitivity``, ``experiment=calibrate``,
``experiment=robustness``) whose model runs go through helsesim's runner
(:func:`helsesim.runner.run_experiment`: worker processes or Ray, resumable parts, a
manifest): a sample of parameter sets becomes the runner's arms with paired seeds. The
libraries own the methods: SALib (Morris, Sobol), pyabc (ABC-SMC), scipy.stats.qmc (Latin
hypercube) and the EMA workbench (PRIM). Nothing here imports them until an analysis runs, so
the model works without the ``helsesim[analysis]`` extra.
"""

from __future__ import annotations

#: The analyses by ``experiment.analysis``.
ANALYSES = ("sensitivity", "calibrate", "robustness")
#: The libraries each analysis needs (the ``helsesim[analysis]`` extra).
LIBRARIES = {"sensitivity": ("SALib", "scipy"), "calibrate": ("pyabc", "scipy"),
             "robustness": ("scipy", "ema_workbench")}


class AnalysisError(RuntimeError):
    """An analysis cannot go on (failed runs, nothing to analyse): one line naming why."""


def __getattr__(name: str) -> object:
    """:func:`~helsesim.analysis.dispatch.run` and :func:`~helsesim.analysis.dispatch.check`,
    imported when first used (see :mod:`helsesim.analysis.dispatch`: why apart)."""
    if name == "run":
        from helsesim.analysis.dispatch import run as value
    elif name == "check":
        from helsesim.analysis.dispatch import check as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return value
