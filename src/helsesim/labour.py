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
    """One year of flows in one community (:func:`labour_years` with one block)."""
    new, flows = labour_years(positions, filled, attract, is_trust, lp, rng, np.array([0]))
    return new, flows[0]


def labour_years(positions: np.ndarray, filled: np.ndarray, attract: np.ndarray,
                 is_trust: np.ndarray, lp, rng: np.random.Generator, starts: np.ndarray
                 ) -> tuple[np.ndarray, list[Flows]]:
    """One year of flows in every community at once; nobody moves between communities.

    Args:
        positions: (n_employers, n_professions) FTE needed, the employers of each community
            in one block of rows.
        filled: (n_employers, n_professions) FTE filled (int).
        attract: (n_employers,) attractiveness of each employer.
        is_trust: (n_employers,) True for a health trust (one per community).
        lp: labour parameters.
        rng: the model's labour generator.
        starts: (n_communities,) the first row of each community's block, ascending from 0.

    Returns:
        The new filled counts (never above the rounded positions, never negative) and each
        community's flows.
    """
    n, k = positions.shape
    sizes = np.diff(np.append(starts, n))
    comm = np.repeat(np.arange(len(starts)), sizes)  # community of each employer
    cap = np.round(positions).astype(np.int64)
    # staff above the positions (after a service moved away) join the pool as job seekers
    surplus = np.maximum(filled - cap, 0)
    filled = filled - surplus
    rel = attract - (np.add.reduceat(attract, starts) / sizes)[comm]
    q = np.clip(lp.quit_rate * np.exp(-lp.retention_sensitivity * rel), 0.0, 0.95)
    quits = rng.binomial(filled, q[:, None])
    exits = rng.binomial(quits, lp.exit_share)
    movers = quits - exits + surplus
    filled = filled - quits
    # each community's pool by origin (communities x professions): trust, municipalities, new
    # (graduates, immigrants)
    from_trust = np.add.reduceat(np.where(is_trust[:, None], movers, 0), starts, axis=0)
    from_muni = np.add.reduceat(movers, starts, axis=0) - from_trust
    new = rng.poisson(lp.inflow_rate * np.add.reduceat(positions, starts, axis=0))
    pull = np.exp(lp.choice_sensitivity * rel)[:, None]
    seekers = from_trust + from_muni + new
    # job seekers choose among their community's employers: one multinomial per community and
    # profession, over the employers padded to the largest community (padding weighs 0)
    slot = np.arange(n) - np.repeat(starts, sizes)
    width = int(sizes.max())
    hires = np.zeros((n, k), dtype=np.int64)
    for _ in range(3):  # a few rounds: seekers not placed try the remaining vacancies
        vac = cap - filled - hires
        w = np.zeros((len(starts), k, width))
        w[comm, :, slot] = vac * pull
        tot = w.sum(axis=2)
        live = (seekers > 0) & (tot > 0)
        if not live.any():
            break
        pvals = np.where(live[:, :, None], w / np.where(live, tot, 1.0)[:, :, None],
                         1.0 / width)
        draw = rng.multinomial(np.where(live, seekers, 0), pvals)[comm, :, slot]
        got = np.minimum(draw, vac)
        hires += got
        seekers = seekers - np.add.reduceat(got, starts, axis=0)
    filled = filled + hires
    # who was hired, by origin: a draw without replacement from the pool's composition (as
    # successive hypergeometric draws: trust vs the rest, then municipalities vs new)
    total = np.add.reduceat(hires, starts, axis=0)
    h_trust = rng.hypergeometric(from_trust, from_muni + new, total)
    h_muni = rng.hypergeometric(from_muni, new, total - h_trust)
    h_new = total - h_trust - h_muni
    # which of the hired went to the trust: again without replacement, so that the flows into
    # each employer type add up to its hires
    to_trust = np.add.reduceat(np.where(is_trust[:, None], hires, 0), starts, axis=0)
    t_from_trust = rng.hypergeometric(h_trust, h_muni + h_new, to_trust)
    m_to_trust = rng.hypergeometric(h_muni, h_new, to_trust - t_from_trust)
    columns = zip(t_from_trust.sum(axis=1).tolist(),
                  (h_trust - t_from_trust).sum(axis=1).tolist(), m_to_trust.sum(axis=1).tolist(),
                  (h_muni - m_to_trust).sum(axis=1).tolist(), h_new.sum(axis=1).tolist(),
                  np.add.reduceat(exits, starts, axis=0).sum(axis=1).tolist(), strict=True)
    flows = [Flows(trust_to_trust=tt, trust_to_municipality=tm, municipality_to_trust=mt,
                   municipality_to_municipality=mm, entrants_hired=e, exits=x)
             for tt, tm, mt, mm, e, x in columns]
    return filled, flows
