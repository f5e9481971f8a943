"""helsesim's model as ``mesa.batch_run`` wants it (for the benchmark in sweep.py only).

``batch_run(model_cls, parameters, ...)`` calls ``model_cls(**kwargs)`` with one combination of
``parameters``, steps the model while ``model.running`` and ``model.steps <= max_steps``, and
reads ``model.datacollector``. helsesim's :class:`~helsesim.model.HealthSystem` takes a
validated configuration instead, so this subclass builds one from keyword parameters (any name
of :func:`helsesim.simulate`, e.g. ``allocation``, ``scenario``, ``compensation``) and takes the
seed as Mesa does, ``rng=``. One step is one year: ``max_steps=years - 1`` runs ``years`` years
(batch_run steps while ``steps <= max_steps``). helsesim records its year rows itself
(``model.records``, one grouped pass over arrays); for ``batch_run`` this adapter adds a Mesa
``DataCollector`` whose model reporters read the row just recorded.
"""

from __future__ import annotations

from typing import Any

import mesa

import helsesim
from helsesim.model import HealthSystem
from helsesim.outcomes import YEAR_COLUMNS


def _reporter(column: str):
    return lambda model: model.records.years[column][-1]


class BatchRunHealthSystem(HealthSystem):
    """A HealthSystem built from keyword parameters and a seed ``rng``."""

    def __init__(self, rng: int | None = None, **params: Any) -> None:
        super().__init__(helsesim.build_config(seed=rng if rng is not None else 1, **params))
        self.datacollector = mesa.DataCollector(
            model_reporters={c: _reporter(c) for c in YEAR_COLUMNS})
        self.datacollector.collect(self)  # year 0, recorded by the constructor

    def collect(self) -> None:
        super().collect()
        if hasattr(self, "datacollector"):
            self.datacollector.collect(self)
