"""helsesim's model as ``mesa.batch_run`` wants it (for the benchmark in sweep.py only).

``batch_run(model_cls, parameters, ...)`` calls ``model_cls(**kwargs)`` with one combination of
``parameters``, steps the model while ``model.running`` and ``model.steps <= max_steps``, and
reads ``model.datacollector``. helsesim's :class:`~helsesim.model.HealthSystem` takes a
validated configuration instead, so this subclass builds one from keyword parameters (any name
of :func:`helsesim.simulate`, e.g. ``allocation``, ``scenario``, ``compensation``) and takes the
seed as Mesa does, ``rng=``. One step is one year: ``max_steps=years - 1`` runs ``years`` years
(batch_run steps while ``steps <= max_steps``).
"""

from __future__ import annotations

import helsesim
from helsesim.model import HealthSystem


class BatchRunHealthSystem(HealthSystem):
    """A HealthSystem built from keyword parameters and a seed ``rng``."""

    def __init__(self, rng: int | None = None, **params) -> None:
        super().__init__(helsesim.build_config(seed=rng if rng is not None else 1, **params))
