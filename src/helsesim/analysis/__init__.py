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

import importlib.util

from helsesim.config import ConfigError

#: The analyses by ``experiment.analysis``.
ANALYSES = ("sensitivity", "calibrate", "robustness")
#: The libraries each analysis needs (the ``helsesim[analysis]`` extra).
LIBRARIES = {"sensitivity": ("SALib", "scipy"), "calibrate": ("pyabc", "scipy"),
             "robustness": ("scipy", "ema_workbench")}


class AnalysisError(RuntimeError):
    """An analysis cannot go on (failed runs, nothing to analyse): one line naming why."""


def check(cfg) -> None:  # noqa: ANN001 - a composed DictConfig
    """Check an analysis before anything runs or is written: its libraries, the parameters it
    varies or fits, its designs, questions and targets.

    Raises:
        ConfigError: one line naming the field and what is allowed.
    """
    from helsesim.analysis import space

    exp = cfg.experiment
    name = exp.analysis
    missing = [m for m in LIBRARIES.get(name, ()) if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"experiment.analysis={name} needs {', '.join(missing)}: install "
                          "them with pip install 'helsesim[analysis]'")
    try:
        if name == "calibrate":
            _check_calibration(cfg)
        elif not (name == "robustness" and exp.worlds == "posterior"):
            space.uncertainties(list(exp.parameters) or None)
        if name == "robustness":
            _check_questions(cfg)
    except AnalysisError as e:
        raise ConfigError(str(e)) from None


def _check_calibration(cfg) -> None:  # noqa: ANN001
    from helsesim.allocation import DESIGNS
    from helsesim.analysis import space
    from helsesim.analysis.calibration import fitted

    fitted(cfg)
    if not cfg.targets.targets:
        raise ConfigError("targets: none; choose a target set (targets=seeds or "
                          "targets=synthetic)")
    bad = [d for d in cfg.calibration.designs if d not in DESIGNS]
    if bad:
        raise ConfigError(f"calibration.designs: {bad[0]!r}; allowed: {', '.join(DESIGNS)}")
    if cfg.targets.synthetic and cfg.targets.truth:
        space.uncertainties([str(k) for k in cfg.targets.truth])


def _check_questions(cfg) -> None:  # noqa: ANN001
    from helsesim.allocation import DESIGNS
    from helsesim.outcomes import SUMMARY_KEYS

    exp = cfg.experiment
    designs = [d for x in (exp.designs or [cfg.allocation.design])
               for d in (list(DESIGNS) if x == "all" else [x])]
    for q in exp.questions:
        for field, value in (("design", q.design), ("rival", q.rival)):
            if value not in designs:
                raise ConfigError(f"experiment.questions: {field} {value!r} is not one of the "
                                  f"designs run; allowed: {', '.join(designs)}")
        if q.outcome not in SUMMARY_KEYS:
            raise ConfigError(f"experiment.questions: outcome {q.outcome!r}; allowed: "
                              f"{', '.join(SUMMARY_KEYS)}")


def run(cfg, out):  # noqa: ANN001, ANN201 - DictConfig, Path -> dict (imports stay lazy)
    """Run the analysis that ``cfg.experiment.analysis`` names into the job folder ``out``
    (checked first: :func:`check`)."""
    import importlib
    from pathlib import Path

    name = cfg.experiment.analysis
    if name not in ANALYSES:
        raise ConfigError(f"experiment.analysis: got {name!r}; allowed: {', '.join(ANALYSES)}")
    check(cfg)
    module = importlib.import_module(f"helsesim.analysis.{MODULES[name]}")
    return module.run(cfg, Path(out))


#: The module of each analysis.
MODULES = {"sensitivity": "sensitivity", "calibrate": "calibration", "robustness": "robustness"}
