"""The space of plausible worlds: every parameter with a plausible range, as a distribution.

The ranges live in the schema (``low``, ``high``, ``prior``, ``kind`` in the field metadata of
:mod:`helsesim.config`); this module turns them into scipy distributions, so that the
sensitivity analysis (SALib), the Latin hypercube of the robustness runs (scipy.stats.qmc) and
the calibration priors (pyabc) all draw from the same claims. A sample is drawn on the unit
hypercube by the library that owns the design and mapped to values by each parameter's
quantile function (:meth:`Uncertainty.from_unit`).

Priors (``prior`` in the metadata):

* ``uniform``: uniform on [low, high];
* ``loguniform``: uniform in the logarithm on [low, high];
* ``int``: uniform on the integers low..high;
* ``beta(a,b)``: a share, Beta(a, b) on [0, 1]; low and high are about its 2.5 and 97.5 %
  points, and the unit hypercube maps to that central 95 % (so a screen spans [low, high]);
* ``dirichlet(...)``: a list of weights; not sampled (a list is not one factor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from helsesim.config import ConfigError, parameter_table

if TYPE_CHECKING:  # scipy is imported when a distribution is made
    from scipy.stats.distributions import rv_frozen

#: The central share of a Beta prior that the unit interval spans.
BETA_CENTRE = 0.95
_BETA = re.compile(r"beta\(\s*([0-9.]+)\s*,\s*([0-9.]+)\s*\)")


class SpaceError(ConfigError):
    """A parameter that cannot be varied: named, with what is allowed."""


@dataclass(frozen=True)
class Uncertainty:
    """One parameter with a plausible range."""

    name: str
    low: float
    high: float
    prior: str
    kind: str
    default: Any
    integer: bool
    lo: float | None = None
    hi: float | None = None

    @property
    def short(self) -> str:
        """The leaf name (unique across the schema)."""
        return self.name.rsplit(".", 1)[-1]

    def distribution(self) -> rv_frozen:
        """The prior as a scipy.stats frozen distribution (Beta: on [0, 1], untruncated)."""
        from scipy import stats

        if self.prior == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if self.prior == "loguniform":
            return stats.loguniform(self.low, self.high)
        if self.prior == "int":
            return stats.randint(int(self.low), int(self.high) + 1)
        m = _BETA.fullmatch(self.prior)
        if m:
            return stats.beta(float(m.group(1)), float(m.group(2)))
        raise SpaceError(f"{self.name}: prior {self.prior!r} cannot be sampled; allowed: "
                         "uniform, loguniform, int, beta(a,b)")

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Values for points of the unit interval (the quantile function of the prior; a Beta
        prior spans its central 95 %), clipped to the validity bounds."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        dist = self.distribution()
        if self.prior.startswith("beta"):
            u = (1 - BETA_CENTRE) / 2 + BETA_CENTRE * u
        if self.integer:
            # randint's quantile at 0 is low - 1: stay inside the support
            values = dist.ppf(np.clip(u, 1e-12, 1.0))
        else:
            values = dist.ppf(u)
        lo = -np.inf if self.lo is None else self.lo
        hi = np.inf if self.hi is None else self.hi
        return np.clip(values, lo, hi)

    def value(self, x: float) -> int | float:
        """``x`` as the configuration takes it (an int for an integer parameter)."""
        return round(float(x)) if self.integer else float(x)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The central ``level`` interval of the prior as used (a Beta prior: truncated)."""
        a = (1 - level) / 2
        return tuple(float(v) for v in self.from_unit(np.array([a, 1 - a])))  # type: ignore[return-value]


def _rows() -> list[tuple[str, Any, dict]]:
    return [(r["name"], r["default"], r) for r in parameter_table()]


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def missing_ranges() -> list[str]:
    """Numeric parameters (numbers or lists of numbers) that are uncertainties but have no
    plausible range: each needs ``low``/``high`` in :mod:`helsesim.config`, or to be marked
    ``kind="lever"`` or ``kind="setting"``."""
    out = []
    for path, value, meta in _rows():
        numeric = _numeric(value) or (isinstance(value, (list, tuple)) and value
                                      and all(_numeric(v) for v in value))
        if numeric and meta.get("kind", "uncertainty") == "uncertainty" \
                and meta.get("low") is None:
            out.append(path)
    return out


def not_sampled() -> list[str]:
    """Uncertainties with a range that the workbench does not vary (lists of weights)."""
    return [path for path, value, meta in _rows()
            if meta.get("kind") == "uncertainty" and meta.get("low") is not None
            and not _numeric(value)]


def uncertainties(names: list[str] | None = None) -> list[Uncertainty]:
    """The parameters to vary: ``names`` (dotted paths or leaf names; any kind, each must have
    a range and be a number), or, without names, every numeric uncertainty with a range.

    Raises:
        SpaceError: a name that is not a parameter, has no range or is not a number.
    """
    rows = _rows()
    by_path = {path: (value, meta) for path, value, meta in rows}
    by_leaf = {path.rsplit(".", 1)[-1]: path for path, _, _ in rows}
    if names:
        paths = []
        for n in names:
            path = n if n in by_path else by_leaf.get(n)
            if path is None:
                raise SpaceError(f"experiment.parameters: {n!r} is not a parameter of helsesim "
                                 "(a dotted path such as params.labour.quit_rate, or its leaf "
                                 "name)")
            value, meta = by_path[path]
            if meta.get("low") is None or not _numeric(value):
                with_range = [p for p, v, m in rows if m.get("low") is not None and _numeric(v)]
                raise SpaceError(f"experiment.parameters: {path} has no plausible range or is "
                                 f"not a number; allowed: {', '.join(with_range)}")
            if path in paths:
                raise SpaceError(f"experiment.parameters: {path} is listed twice")
            paths.append(path)
    else:
        paths = [p for p, v, m in rows if m.get("kind") == "uncertainty"
                 and m.get("low") is not None and _numeric(v)]
    out = []
    for path in paths:
        value, meta = by_path[path]
        out.append(Uncertainty(path, float(meta["low"]), float(meta["high"]),
                               meta.get("prior") or "uniform", meta.get("kind", "uncertainty"),
                               value, isinstance(value, int) or meta.get("prior") == "int",
                               meta.get("lo"), meta.get("hi")))
        out[-1].distribution()  # an unknown prior fails here, naming the parameter
    return out


def changes(values: dict[str, Any]) -> dict:
    """``{dotted.path: value}`` as the nested mapping of an arm (``experiment.arms``)."""
    from omegaconf import OmegaConf

    nested = OmegaConf.create()
    for path, v in values.items():
        OmegaConf.update(nested, path, v, merge=True)
    return OmegaConf.to_container(nested)


def with_design(delta: dict, design: str) -> dict:
    """An arm's changes with its allocation design (keeping any allocation parameter it sets,
    such as ``allocation.governance_projects``)."""
    return {**delta, "allocation": {**delta.get("allocation", {}), "design": design}}


def values_of(space: list[Uncertainty], unit: np.ndarray) -> np.ndarray:
    """The parameter values of points given on the unit hypercube (rows: points)."""
    unit = np.atleast_2d(unit)
    return np.column_stack([u.from_unit(unit[:, j]) for j, u in enumerate(space)])


def point_changes(space: list[Uncertainty], row: np.ndarray) -> dict:
    """One point's values as the nested changes of an arm."""
    return changes({u.name: u.value(x) for u, x in zip(space, row, strict=True)})
