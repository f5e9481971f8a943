"""The random draws of agents' decisions: a logistic choice and weighted picks.

Each takes the generator of the process that draws (see ``HealthSystem``), never a global one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def logistic(x: float) -> float:
    """The chance of a yes in a logit choice with propensity ``x``."""
    # exp overflows beyond 709; the chance is 0 to double precision long before
    return 1.0 / (1.0 + math.exp(min(-x, 700.0)))


def weighted_index(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """One index drawn with probability proportional to ``weights`` (inverse CDF: one uniform
    draw)."""
    u = rng.random() * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct indices drawn with probability proportional to ``weights``, without
    replacement (Efraimidis & Spirakis 2006: the k largest u^(1/w)), in ascending order."""
    keys = np.log(rng.random(len(weights))) / weights
    return np.sort(np.argsort(-keys, kind="stable")[:k])
