"""The workforce: every employer's positions and staff, and a labour market open to the country.

:class:`Workforce` is the one owner of positions, staff, attractiveness and vacancy shares: one
row per employer (each community's trust, then its municipalities), one column per profession,
so that needs growth and the labour market move every community at once; an employer's
``positions``, ``filled`` and ``vacancy_share`` read its row.

The labour pool is not one agent per worker (the national scenario must stay fast) but counts
per employer and profession. Attractiveness is absolute, against a fixed national reference
(A = 0: a fully staffed 10,000-inhabitant municipality at the hospital), so that what makes an
employer better to work for raises its community's staff, not only its rank in it. Each year
staff quit (less where the employer is attractive and where projects retain them); of the
quitters some leave the sector, some leave the community for the rest of the country (more from
unattractive employers) and the rest seek work in the community. New staff arrive from the rest
of the country (graduates, immigrants, returners: more to an attractive community), graduates
of placements funded by projects first where they had their placement. Job seekers choose
employers with vacancies by attractiveness, against an outside option (a job elsewhere in the
country). The hospital and the municipalities compete for the same people (NOU 2023:4 ch. 6;
SSU sak 27/2024: "we recruit from the same group"). Equations and sources: docs/ODD.md 7.10.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from helsesim.model.agents import REFERENCE_POPULATION
from helsesim.model.labour_market import Flows, bounded_exp, labour_years

if TYPE_CHECKING:
    from helsesim.config import LabourParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality


class Workforce:
    """Positions and staff of every employer, their attractiveness, and the labour market's
    yearly step.

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
        n = len(self.employers)
        #: FTE needed (employers x professions), grown by ageing.
        self.positions = np.array([e.initial_positions for e in self.employers], dtype=float)
        #: The place as a workplace: size and remoteness of a municipality, the hospital's own.
        self.base_attractiveness = np.array([e.base_attractiveness for e in self.employers])
        #: What running and lasting projects do to each employer this year
        #: (:meth:`set_project_effects`): the share of the quit hazard they remove, the
        #: attractiveness they add, the student placements they fund (persons a year) and the
        #: groups of employers whose staff form one professional environment (a shared
        #: personnel pool).
        self.retention = np.zeros(n)
        self.attraction = np.zeros(n)
        self.placements = np.zeros(n)
        self.pools: list[np.ndarray] = []
        self._pool_matrix: np.ndarray | None = None
        #: Expected graduates of funded placements, by year of arrival (oldest first).
        self._pipeline: deque[np.ndarray | None] = deque()
        # the reference municipality's staff per profession (A = 0 has its environment)
        reference = np.array([params.nurse_per_1000, params.doctor_per_1000,
                              params.health_worker_per_1000]) * REFERENCE_POPULATION / 1000
        self._reference_environment = self.environment(reference)
        self.vacancy = np.zeros(n)
        self.vacancy_shares: list[float] = []
        #: FTE filled (employers x professions).
        self.filled = self.initial_staff()
        #: This year's moves by community.
        self.flows = {key: Flows() for key in communities}
        self._followers = np.zeros(len(communities), dtype=np.int64)
        self._community_of = np.repeat(np.arange(len(communities)), sizes)
        #: The last labour market's arrays per employer and profession (quits, exits, ...).
        self.last: dict[str, np.ndarray] = {}
        for i, e in enumerate(self.employers):
            e.join_workforce(self, i)
        self.refresh_vacancies()

    # -- state ----------------------------------------------------------------------------------
    def refresh_vacancies(self) -> None:
        """Every employer's vacancy share: vacancies over rounded positions, all professions
        together (after positions or staff changed)."""
        self.vacancy = self.vacancy_of(self.filled)
        self.vacancy_shares = self.vacancy.tolist()

    def vacancy_of(self, staff: np.ndarray) -> np.ndarray:
        rounded = np.round(self.positions)
        return (np.maximum(rounded - staff, 0).sum(axis=1)
                / np.maximum(rounded.sum(axis=1), 1))

    def environment(self, staff: np.ndarray) -> np.ndarray:
        """The professional environment of ``staff`` colleagues of one profession (0-1,
        saturating: half at ``environment_half``)."""
        return staff / (staff + self.params.environment_half)

    def colleagues(self, staff: np.ndarray) -> np.ndarray:
        """Each employer's colleagues per profession: its own staff, plus ``pool_share`` of
        the other members' staff of every shared personnel pool it belongs to."""
        if self._pool_matrix is None:
            return staff
        return self._pool_matrix @ staff

    def attractiveness_by_profession(self, staff: np.ndarray | None = None,
                                     vacancy: np.ndarray | None = None) -> np.ndarray:
        """Absolute attractiveness of each employer to each profession (employers x
        professions), against the national reference 0: the place, the workload (own vacancy
        share), the professional environment (colleagues, pooled ones included), the adopted
        practice (``knowledge``) and what projects add."""
        params = self.params
        staff = self.filled if staff is None else staff
        vacancy = self.vacancy if vacancy is None else vacancy
        knowledge = np.fromiter((e.knowledge for e in self.employers), float,
                                len(self.employers))
        own = (self.base_attractiveness + self.attraction
               - params.workload_penalty * vacancy + params.knowledge_attraction * knowledge)
        environment = (self.environment(self.colleagues(staff.astype(float)))
                       - self._reference_environment)
        return own[:, None] + params.environment_attraction * environment

    def attractiveness(self) -> np.ndarray:
        """Each employer's attractiveness (the mean over professions, weighted by positions)."""
        a = self.attractiveness_by_profession()
        return (a * self.positions).sum(axis=1) / np.maximum(self.positions.sum(axis=1), 1e-12)

    def initial_staff(self) -> np.ndarray:
        """Staff at the start: each community's positions filled to ``initial_fill`` per
        profession, spread over its employers by the labour market's own stationary gradient.

        In a stationary market an employer's vacancies per staff member are proportional to
        its quit hazard over its pull on job seekers, exp(-(retention_sensitivity +
        choice_sensitivity) A); the constant of each community and profession is set so that
        its fill is ``initial_fill``. A is evaluated at the resulting staff (a few fixed-point
        passes: workload and environment depend on it). Without this, every employer would
        start equally filled and the first years would show a transient, not the gradient.
        Whole FTE by stochastic rounding."""
        params = self.params
        cap = np.round(self.positions)
        starts = self.starts
        target = (1.0 - params.initial_fill) * np.add.reduceat(cap, starts, axis=0)
        comm = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(cap))))
        staff = cap * params.initial_fill
        gamma = params.retention_sensitivity + params.choice_sensitivity
        scale = None
        for _ in range(2):
            g = bounded_exp(-gamma * self.attractiveness_by_profession(
                staff, self.vacancy_of(staff)))
            if scale is None:  # the small-vacancy approximation v = scale * g to start from
                scale = target / np.maximum(np.add.reduceat(cap * g, starts, axis=0), 1e-12)
            for _ in range(4):  # Newton on the community constant: sum cap*v = target
                kg = scale[comm] * g
                v = kg / (1 + kg)
                excess = np.add.reduceat(cap * v, starts, axis=0) - target
                slope = np.add.reduceat(cap * g / (1 + kg) ** 2, starts, axis=0)
                scale = np.maximum(scale - excess / np.maximum(slope, 1e-12), scale * 0.1)
            staff = cap * (1 - v)
        # whole FTE by stochastic rounding (a small employer's expected vacancy is a fraction
        # of a post; rounding it away would fill every small employer), from a child of the
        # labour generator so that the labour market's own draws are not shifted
        rounding = self.rng.spawn(1)[0]
        whole = np.floor(staff)
        return (whole + (rounding.random(staff.shape) < staff - whole)).astype(np.int64)

    # -- processes ------------------------------------------------------------------------------
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
        whose staff count as one professional environment (shared personnel pools)."""
        n = len(self.employers)
        self.retention = np.clip(np.asarray(retention, dtype=float), 0.0, 0.99)
        self.attraction = np.asarray(attraction, dtype=float)
        self.placements = (np.zeros(n) if placements is None
                           else np.maximum(np.asarray(placements, dtype=float), 0.0))
        pools = [np.asarray(g, dtype=np.int64) for g in (pools or [])]
        unchanged = len(pools) == len(self.pools) and all(
            np.array_equal(g, old) for g, old in zip(pools, self.pools, strict=True))
        self.pools = pools
        if unchanged:  # the same pools as last year: the same matrix
            return
        self._pool_matrix = None
        if any(len(g) > 1 for g in pools):
            matrix = np.zeros((n, n))
            for g in pools:
                matrix[np.ix_(g, g)] = self.params.pool_share
            np.fill_diagonal(matrix, 1.0)
            self._pool_matrix = matrix

    def add_project_effects(self, retention: np.ndarray, attraction: np.ndarray,
                            placements: np.ndarray | None = None,
                            pools: list[np.ndarray] | None = None) -> None:
        """Add effects to those set this year (after the project portfolio's, before the labour
        market): the hook for effects beyond the funded projects, such as the synthetic effects
        of the paired labour-market experiments. Shares of the quit hazard combine as
        1 - (1 - a)(1 - b) (exactly the set share where nothing is added), attraction and
        placements add up, pools join the projects' pools."""
        retention = np.asarray(retention, dtype=float)
        combined = np.where(retention > 0, 1 - (1 - self.retention) * (1 - retention),
                            self.retention)
        self.set_project_effects(
            combined, self.attraction + np.asarray(attraction, dtype=float),
            self.placements if placements is None else self.placements + placements,
            [*self.pools, *(pools or [])])

    def placement_graduates(self) -> np.ndarray | None:
        """This year's expected graduates of funded placements (employers x professions), the
        placements of ``placement_lag`` years ago times ``placement_yield``, split over
        professions by positions; None when there are none."""
        funded = None
        if self.placements.any():
            share = self.positions / np.maximum(self.positions.sum(axis=1, keepdims=True), 1e-12)
            funded = self.params.placement_yield * self.placements[:, None] * share
        self._pipeline.append(funded)
        if len(self._pipeline) <= self.params.placement_lag:
            return None
        return self._pipeline.popleft()

    def labour_market(self) -> None:
        """Staff quit, leave or move; new staff come from the rest of the country; job
        seekers choose employers by attractiveness or leave."""
        detail: dict[str, np.ndarray] = {}
        retention = self.retention if self.retention.any() else None
        new, flows = labour_years(self.positions, self.filled,
                                  self.attractiveness_by_profession(), self.is_trust,
                                  self.params, self.rng, self.starts, retention,
                                  self.placement_graduates(), detail)
        for f, followers in zip(flows, self._followers.tolist(), strict=True):
            f.transfer_followers = followers
        self._followers[:] = 0
        self.filled[:] = new
        self.last = detail
        self.refresh_vacancies()
        self.flows = dict(zip(self.flows, flows, strict=True))

    def transfer_positions(self, trust: HealthTrust, municipalities: list[Municipality],
                           nurses: float, staff_follow: float | None = None) -> int:
        """A task transfer moves nurse positions (at most half the trust's) from the trust to
        the municipalities, in proportion to population, and a share ``staff_follow``
        (default ``transfer_staff_follow``) of the trust's nurses on those positions moves
        with them (whole FTE, split by population, largest remainders first); the others stay
        until the labour market (those above the trust's positions become job seekers).

        Returns:
            The staff who moved with the service.
        """
        share = self.params.transfer_staff_follow if staff_follow is None else staff_follow
        t = trust.employer_index
        population = np.array([m.population for m in municipalities], dtype=float)
        split = population / population.sum()
        moved = min(nurses, self.positions[t, 0] * 0.5)
        fill = self.filled[t, 0] / max(self.positions[t, 0], 1e-12)
        followers = int(min(np.floor(share * moved * min(fill, 1.0) + 0.5), self.filled[t, 0]))
        exact = followers * split
        each = np.floor(exact).astype(np.int64)
        rest = followers - int(each.sum())
        if rest > 0:
            each[np.argsort(-(exact - each), kind="stable")[:rest]] += 1
        self.positions[t, 0] -= moved
        self.filled[t, 0] -= followers
        for m, gain, k in zip(municipalities, split, each.tolist(), strict=True):
            self.positions[m.employer_index, 0] += moved * gain
            self.filled[m.employer_index, 0] += k
        self._followers[self._community_of[t]] += followers
        self.refresh_vacancies()
        return followers
