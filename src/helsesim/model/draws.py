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


def weighted_sample(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, k: int
                    ) -> list[int]:
    """``k`` distinct indices drawn with probability proportional to ``weights``, without
    replacement (Efraimidis & Spirakis 2006: the k largest u^(1/w)), in ascending order.

    The keys are ranked in Python: the lists are short (a lead's neighbours, a community's
    municipalities) and a handful of numpy calls per draw cost more than the sort. The
    indices are a list of ints (callers index lists with them)."""
    n = len(weights)
    u = rng.random(n).tolist()
    if k >= n:  # every index is taken, whatever the keys (the uniforms are still drawn)
        return list(range(n))
    keys = [math.log(x) / w if x > 0.0 and w > 0.0 else -math.inf
            for x, w in zip(u, weights.tolist() if isinstance(weights, np.ndarray) else weights,
                            strict=True)]
    return sorted(sorted(range(n), key=keys.__getitem__, reverse=True)[:k])
