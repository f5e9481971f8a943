"""The analysis that ``experiment.analysis`` names: checked before anything runs or is
written (:func:`check`), then run into its job folder (:func:`run`).

Kept apart from the package's ``__init__`` (which the Hydra schema imports for the analyses'
configuration groups), so that the schema does not import the analyses, which run through the
runner, which reads the schema.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from omegaconf import DictConfig

from helsesim.analysis import ANALYSES, LIBRARIES, AnalysisError
from helsesim.config import ConfigError


def check(cfg: DictConfig) -> None:
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


def _check_calibration(cfg: DictConfig) -> None:
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


def _check_questions(cfg: DictConfig) -> None:
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


def run(cfg: DictConfig, out: Path) -> dict:
    """Run the analysis that ``cfg.experiment.analysis`` names into the job folder ``out``
    (checked first: :func:`check`)."""
    name = cfg.experiment.analysis
    if name not in ANALYSES:
        raise ConfigError(f"experiment.analysis: got {name!r}; allowed: {', '.join(ANALYSES)}")
    check(cfg)
    return _module(name).run(cfg, Path(out))


def _module(name: str) -> ModuleType:
    """The module of an analysis, imported when the analysis runs."""
    if name == "sensitivity":
        from helsesim.analysis import sensitivity as module
    elif name == "calibrate":
        from helsesim.analysis import calibration as module
    else:
        from helsesim.analysis import robustness as module
    return module
