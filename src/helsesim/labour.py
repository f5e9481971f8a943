"""The labour pool: stochastic flows of staff between employers of one health community.

Not one agent per worker (the national scenario must stay fast) but counts per employer and
profession. Each year staff quit (less where the employer is attractive), some leave the
sector, the rest join the regional pool with new graduates and immigrants, and job seekers
choose employers with vacancies by attractiveness (a logit). The hospital and the municipalities
compete for the same people (NOU 2023:4 ch. 6; SSU sak 27/2024: "we recruit from the same group").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Flows:
    """Counts of one year's moves (all professions) in one community."""

    trust_to_municipality: int = 0
    municipality_to_trust: int = 0
    municipality_to_municipality: int = 0
    trust_to_trust: int = 0
    exits: int = 0
    entrants_hired: int = 0

    def add(self, other: Flows) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def labour_year(positions: np.ndarray, filled: np.ndarray, attract: np.ndarray,
                is_trust: np.ndarray, lp, rng: np.random.Generator) -> tuple[np.ndarray, Flows]:
    """One year of flows.

    Args:
        positions: (n_employers, n_professions) FTE needed.
        filled: (n_employers, n_professions) FTE filled (int).
        attract: (n_employers,) attractiveness of each employer.
        is_trust: (n_employers,) True for the health trust.
        lp: labour parameters.
        rng: the model's labour generator.

    Returns:
        The new filled counts (never above the rounded positions, never negative) and the flows.
    """
    n, k = positions.shape
    cap = np.round(positions).astype(np.int64)
    # staff above the positions (after a service moved away) join the pool as job seekers
    surplus = np.maximum(filled - cap, 0)
    filled = filled - surplus
    rel = attract - attract.mean()
    q = np.clip(lp.quit_rate * np.exp(-lp.retention_sensitivity * rel), 0.0, 0.95)
    quits = rng.binomial(filled, q[:, None])
    exits = rng.binomial(quits, lp.exit_share)
    movers = quits - exits + surplus
    filled = filled - quits
    flows = Flows(exits=int(exits.sum()))
    # pool by origin: 0 = trust, 1 = municipality, 2 = new (graduates, immigrants)
    from_trust = movers[is_trust].sum(axis=0)
    from_muni = movers[~is_trust].sum(axis=0)
    new = rng.poisson(lp.inflow_rate * positions.sum(axis=0))
    pull = np.exp(lp.choice_sensitivity * rel)[:, None]
    seekers = from_trust + from_muni + new
    hires = np.zeros((n, k), dtype=np.int64)
    uniform = np.full(n, 1.0 / n)
    for _ in range(3):  # a few rounds: seekers not placed try the remaining vacancies
        vac = cap - filled - hires
        w = vac * pull
        tot = w.sum(axis=0)
        live = (seekers > 0) & (tot > 0)
        if not live.any():
            break
        pvals = np.array([w[:, j] / tot[j] if live[j] else uniform for j in range(k)])
        draw = rng.multinomial(np.where(live, seekers, 0), pvals).T  # all professions at once
        got = np.minimum(draw, vac)
        hires += got
        seekers = seekers - got.sum(axis=0)
    filled = filled + hires
    for j in range(k):
        total = int(hires[:, j].sum())
        if total == 0:
            continue
        # who was hired, by origin: a draw without replacement from the pool's composition
        pool = np.array([from_trust[j], from_muni[j], new[j]], dtype=np.int64)
        by_origin = rng.multivariate_hypergeometric(pool, total)
        to_trust = int(hires[is_trust, j].sum())
        # which of the hired went to the trust: again a draw without replacement, so that the
        # flows into each employer type add up to its hires
        into_trust = rng.multivariate_hypergeometric(by_origin, to_trust)
        t_from_trust, m_to_trust = int(into_trust[0]), int(into_trust[1])
        flows.trust_to_trust += t_from_trust
        flows.trust_to_municipality += int(by_origin[0]) - t_from_trust
        flows.municipality_to_trust += m_to_trust
        flows.municipality_to_municipality += int(by_origin[1]) - m_to_trust
        flows.entrants_hired += int(by_origin[2])
    return filled, flows
