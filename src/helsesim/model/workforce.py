"""The workforce: every employer's positions and staff, and the labour market that moves them.

:class:`Workforce` is the one owner of positions, staff, attractiveness bonuses and vacancy
shares: one row per employer (each community's trust, then its municipalities), so that needs
growth and the labour market move every community at once; an employer's ``positions``,
``filled`` and ``vacancy_share`` read its row.

The labour pool is not one agent per worker (the national scenario must stay fast) but counts
per employer and profession. Each year staff quit (less where the employer is attractive), some
leave the sector, the rest join the regional pool with new graduates and immigrants, and job
seekers choose employers with vacancies by attractiveness (a logit). The hospital and the
municipalities compete for the same people (NOU 2023:4 ch. 6; SSU sak 27/2024: "we recruit from
the same group").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from helsesim.config import LabourParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality


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
                is_trust: np.ndarray, params: LabourParams, rng: np.random.Generator
                ) -> tuple[np.ndarray, Flows]:
    """One year of flows in one community (:func:`labour_years` with one block)."""
    new, flows = labour_years(positions, filled, attract, is_trust, params, rng, np.array([0]))
    return new, flows[0]


def labour_years(positions: np.ndarray, filled: np.ndarray, attract: np.ndarray,
                 is_trust: np.ndarray, params: LabourParams, rng: np.random.Generator,
                 starts: np.ndarray, retention: np.ndarray | None = None
                 ) -> tuple[np.ndarray, list[Flows]]:
    """One year of flows in every community at once; nobody moves between communities.

    Args:
        positions: (n_employers, n_professions) FTE needed, the employers of each community
            in one block of rows.
        filled: (n_employers, n_professions) FTE filled (int).
        attract: (n_employers,) attractiveness of each employer.
        is_trust: (n_employers,) True for a health trust (one per community).
        params: labour parameters.
        rng: the model's labour generator.
        starts: (n_communities,) the first row of each community's block, ascending from 0.
        retention: (n_employers,) the share of each employer's quit hazard that projects
            remove (0: none; None: no project effects).

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
    q = params.quit_rate * np.exp(-params.retention_sensitivity * rel)
    if retention is not None:
        q = q * (1.0 - retention)
    q = np.clip(q, 0.0, 0.95)
    quits = rng.binomial(filled, q[:, None])
    exits = rng.binomial(quits, params.exit_share)
    movers = quits - exits + surplus
    filled = filled - quits
    # each community's pool by origin (communities x professions): trust, municipalities, new
    # (graduates, immigrants)
    from_trust = np.add.reduceat(np.where(is_trust[:, None], movers, 0), starts, axis=0)
    from_muni = np.add.reduceat(movers, starts, axis=0) - from_trust
    new = rng.poisson(params.inflow_rate * np.add.reduceat(positions, starts, axis=0))
    pull = np.exp(params.choice_sensitivity * rel)[:, None]
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


class Workforce:
    """Positions and staff of every employer, and the labour market's yearly step.

    Args:
        communities: each community's employers, the trust first (the blocks of rows).
        params: labour parameters.
        rng: the labour market's generator.
    """

    def __init__(self, communities: dict[str, list[Employer]], params: LabourParams,
                 rng: np.random.Generator) -> None:
        self.params, self.rng = params, rng
        self.employers = [e for block in communities.values() for e in block]
        sizes = [len(block) for block in communities.values()]
        #: First row of each community's block.
        self.starts = np.cumsum([0, *sizes[:-1]])
        self.is_trust = np.array([e.kind == "trust" for e in self.employers])
        #: FTE needed (employers x professions), grown by ageing.
        self.positions = np.array([e.initial_positions for e in self.employers])
        #: FTE filled (employers x professions).
        self.filled = np.floor(self.positions * params.initial_fill).astype(np.int64)
        self.base_attractiveness = np.array([e.base_attractiveness for e in self.employers])
        #: Attractiveness gained from recruitment projects.
        self.bonus = np.zeros(len(self.employers))
        n = len(self.employers)
        #: What running and lasting projects do to each employer this year
        #: (:meth:`set_project_effects`): the share of the quit hazard they remove, the
        #: attractiveness they add for job seekers, the student placements they fund
        #: (persons a year) and the groups of employers whose staff form one professional
        #: environment (a shared personnel pool).
        self.retention = np.zeros(n)
        self.attraction = np.zeros(n)
        self.placements = np.zeros(n)
        self.pools: list[np.ndarray] = []
        self.vacancy_shares: list[float] = []
        #: This year's moves by community.
        self.flows = {key: Flows() for key in communities}
        for i, e in enumerate(self.employers):
            e.join_workforce(self, i)
        self.refresh_vacancies()

    def refresh_vacancies(self) -> None:
        """Every employer's vacancy share: vacancies over rounded positions, all professions
        together (after positions or staff changed)."""
        rounded = np.round(self.positions)
        share = (np.maximum(rounded - self.filled, 0).sum(axis=1)
                 / np.maximum(rounded.sum(axis=1), 1))
        self.vacancy_shares = share.tolist()

    def attractiveness(self) -> np.ndarray:
        """Each employer's attractiveness, recruitment projects included."""
        return self.base_attractiveness + self.bonus

    def grow_needs(self) -> None:
        """Ageing: positions needed grow every year."""
        self.positions *= 1.0 + self.params.need_growth
        self.refresh_vacancies()

    def set_project_effects(self, retention: np.ndarray, attraction: np.ndarray,
                            placements: np.ndarray | None = None,
                            pools: list[np.ndarray] | None = None) -> None:
        """What projects do to each employer this year (arrays in employer order), set by the
        project portfolio before the labour market: ``retention`` in [0, 1) is the share of the
        quit hazard removed, ``attraction`` is added to attractiveness, ``placements`` are
        student placements funded (persons a year), ``pools`` are groups of employer indices
        whose staff count as one professional environment."""
        n = len(self.employers)
        self.retention = np.clip(np.asarray(retention, dtype=float), 0.0, 0.99)
        self.attraction = np.asarray(attraction, dtype=float)
        self.placements = (np.zeros(n) if placements is None
                           else np.asarray(placements, dtype=float))
        self.pools = list(pools or [])

    def labour_market(self) -> None:
        """Staff quit, leave or move; job seekers choose employers by attractiveness."""
        new, flows = labour_years(self.positions, self.filled,
                                  self.attractiveness() + self.attraction, self.is_trust,
                                  self.params, self.rng, self.starts, self.retention)
        self.filled[:] = new
        self.refresh_vacancies()
        self.flows = dict(zip(self.flows, flows, strict=True))

    def raise_attractiveness(self, employers: list[Employer], gain: float) -> None:
        for e in employers:
            self.bonus[e.employer_index] += gain

    def lower_attractiveness(self, employers: list[Employer], loss: float) -> None:
        """Take ``loss`` off each employer's bonus (never below 0)."""
        for e in employers:
            i = e.employer_index
            self.bonus[i] = max(self.bonus[i] - loss, 0.0)

    def transfer_positions(self, trust: HealthTrust, municipalities: list[Municipality],
                           nurses: float) -> None:
        """A task transfer moves nurse positions (at most half the trust's) from the trust to
        the municipalities, in proportion to population; the staff stay until the labour
        market (those above the trust's positions become job seekers)."""
        population = sum(m.population for m in municipalities)
        moved = min(nurses, self.positions[trust.employer_index, 0] * 0.5)
        self.positions[trust.employer_index, 0] -= moved
        for m in municipalities:
            self.positions[m.employer_index, 0] += moved * m.population / population
        self.refresh_vacancies()
