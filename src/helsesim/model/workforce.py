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

import functools
import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from helsesim.model import inversion
from helsesim.model.agents import REFERENCE_POPULATION

if TYPE_CHECKING:
    from helsesim.config import LabourParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality

#: Exponents are clipped to this size (the parameter bounds allow extreme attractiveness).
MAX_EXPONENT = 50.0
#: Rounds of the matching: seekers not placed try the remaining vacancies again.
MATCHING_ROUNDS = 3
#: Job seekers of one community and profession the labour market takes (one random draw per
#: job seeker and round: beyond this a year would take minutes); ``api.check_horizon``
#: refuses a horizon that would pass it.
MAX_SEEKERS = 10**7


@dataclass
class Flows:
    """Counts of one year's moves (all professions) in one community.

    Between employers of the community: ``trust_to_municipality``, ``municipality_to_trust``,
    ``municipality_to_municipality``, ``trust_to_trust`` (a mover re-hired by its own kind of
    employer, possibly the one it left). Across the community's border: ``entrants_hired`` (new
    staff from outside: graduates, immigrants, returners; ``placement_hires`` of them hired
    where a project funded their placement), ``exits`` (quitters who left the sector) and
    ``left_community`` (staff who left for the rest of the country: quitters who chose to, and
    job seekers who took the outside option or found no job). ``quits`` counts every quit;
    ``transfer_followers`` the trust's staff who moved with a transferred service;
    ``fte_retained`` the quits that projects' retention avoided (expected, FTE).
    """

    trust_to_municipality: int = 0
    municipality_to_trust: int = 0
    municipality_to_municipality: int = 0
    trust_to_trust: int = 0
    exits: int = 0
    entrants_hired: int = 0
    quits: int = 0
    left_community: int = 0
    placement_hires: int = 0
    transfer_followers: int = 0
    fte_retained: float = 0.0

    def add(self, other: Flows) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def profession_quit_ratios(params: LabourParams) -> np.ndarray:
    """Quit hazard of nurses, doctors and health workers relative to nurses'."""
    return np.array([1.0, params.quit_ratio_doctor, params.quit_ratio_health_worker])


def bounded_exp(x: np.ndarray) -> np.ndarray:
    return np.exp(np.maximum(np.minimum(x, MAX_EXPONENT), -MAX_EXPONENT))


def labour_year(positions: np.ndarray, filled: np.ndarray, attract: np.ndarray,
                is_trust: np.ndarray, params: LabourParams, rng: np.random.Generator,
                **kw: np.ndarray | None) -> tuple[np.ndarray, Flows]:
    """One year of flows in one community (:func:`labour_years` with one block)."""
    new, flows = labour_years(positions, filled, attract, is_trust, params, rng, np.array([0]),
                              **kw)
    return new, flows[0]


@functools.lru_cache(maxsize=16)
def _layout(starts: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each community's size, each employer's community and its slot within the community."""
    first = np.array(starts, dtype=np.int64)
    sizes = np.diff(np.append(first, n))
    comm = np.repeat(np.arange(len(first)), sizes)
    return sizes, comm, np.arange(n) - first[comm]


def labour_years(positions: np.ndarray, filled: np.ndarray, attract: np.ndarray,
                 is_trust: np.ndarray, params: LabourParams, rng: np.random.Generator,
                 starts: np.ndarray, retention: np.ndarray | None = None,
                 placement_graduates: np.ndarray | None = None,
                 detail: dict | None = None) -> tuple[np.ndarray, list[Flows]]:
    """One year of flows in every community at once; each community is open to the rest of the
    country, but nobody moves between two modelled communities directly.

    Args:
        positions: (n_employers, n_professions) FTE needed, the employers of each community
            in one block of rows.
        filled: (n_employers, n_professions) FTE filled (int).
        attract: (n_employers, n_professions) or (n_employers,) absolute attractiveness of
            each employer (to each profession), against the national reference 0.
        is_trust: (n_employers,) True for a health trust (one per community).
        params: labour parameters.
        rng: the model's labour generator.
        starts: (n_communities,) the first row of each community's block, ascending from 0.
        retention: (n_employers,) the share of each employer's quit hazard that projects
            remove (0: none; None: no project effects).
        placement_graduates: (n_employers, n_professions) expected graduates this year from
            placements that projects funded at each employer (None: none).
        detail: if given, filled with this year's arrays per employer and profession
            (``quits``, ``exits``, ``leavers``, ``hired_movers``, ``hired_entrants``) and per
            community and profession (``entrants``).

    Returns:
        The new filled counts (never above the rounded positions, never negative) and each
        community's flows.
    """
    n, k = positions.shape
    sizes, comm, slot = _layout(tuple(np.asarray(starts).tolist()), n)
    trust_rows = is_trust[:, None]
    # attractiveness beyond what any exponent below can hold means nothing more
    beta = max(params.retention_sensitivity, params.outside_sensitivity,
               params.choice_sensitivity, 1e-12)
    attract = np.asarray(attract, dtype=float).reshape(n, -1)
    attract = np.maximum(np.minimum(attract, MAX_EXPONENT / beta), -MAX_EXPONENT / beta)
    if attract.shape[1] != k:
        attract = np.repeat(attract, k, axis=1)
    cap = np.round(positions).astype(np.int64)
    # staff above the positions (after a service moved away) join the pool as job seekers
    surplus = np.maximum(filled - cap, 0)
    filled = staff = filled - surplus
    # quits: absolute attractiveness against the national reference, cut by projects
    ratios = profession_quit_ratios(params)
    raw = np.minimum(params.quit_rate * ratios * np.exp(-params.retention_sensitivity
                                                         * attract), 0.95)
    q = raw if retention is None else raw * (1.0 - np.asarray(retention)[:, None])
    # the year's uniforms in a fixed layout (common random numbers, docs/ODD.md 4.9): per
    # employer and profession quits, exits, leavers, the open jobs' rounding and placement
    # graduates; per community and profession entrants and the two origins of hired movers;
    # each draw is the inverse CDF of its own uniform, and the matching's rounds draw from
    # their own child streams
    uniforms = rng.random((5, n, k))
    community_uniforms = rng.random((3, len(sizes), k))
    rounds = rng.spawn(MATCHING_ROUNDS)
    quits = inversion.binomial(uniforms[0], filled, q)
    # leaving the sector (retirement, another occupation) is no likelier for a profession
    # that changes jobs more often: its share of quits is the nurses' over the quit ratio
    exits = inversion.binomial(uniforms[1], quits, np.minimum(
        params.exit_share / np.maximum(ratios, 1e-12), 1.0))
    leavers = inversion.binomial(uniforms[2], quits - exits, np.minimum(
        params.leave_community_share * np.exp(-params.outside_sensitivity * attract), 1.0))
    movers = quits - exits - leavers + surplus
    filled = filled - quits
    # matching friction: only a share of the vacancies can be filled within the year (notice
    # periods, time to hire), in whole posts (stochastic rounding); the others wait
    fillable = params.fill_chance * (cap - filled)
    open_jobs = (fillable + uniforms[3]).astype(np.int64)
    # graduates of funded placements: hired first where they had their placement
    placement_hired = spare = graduates = 0
    if placement_graduates is not None:
        graduates = inversion.poisson(uniforms[4], placement_graduates)
        placement_hired = np.minimum(graduates, open_jobs)
        open_jobs = open_jobs - placement_hired
        filled = filled + placement_hired
        spare = np.add.reduceat(graduates - placement_hired, starts, axis=0)
    # new staff from the rest of the country: more to a community whose open jobs are
    # attractive (mean attractiveness weighted by vacancies, by positions when there are none)
    # and, per community, the movers by origin (all, from the trust)
    stacked = np.empty((n, 5 * k))
    weight = stacked[:, k:2 * k]
    np.add(cap - filled, 1e-3 * cap + 1e-9, out=weight)
    np.multiply(weight, attract, out=stacked[:, :k])
    stacked[:, 2 * k:3 * k] = positions
    stacked[:, 3 * k:4 * k] = movers
    np.multiply(movers, trust_rows, out=stacked[:, 4 * k:])
    sums = np.add.reduceat(stacked, starts, axis=0)
    community_positions = sums[:, 2 * k:3 * k]
    pipeline = np.array([1.0, 1.0, params.inflow_ratio_health_worker])
    entrants = inversion.poisson(
        community_uniforms[0], (params.inflow_rate + params.migration_rate) * pipeline
        * community_positions * np.exp(params.outside_sensitivity * sums[:, :k]
                                       / sums[:, k:2 * k])) + spare
    from_trust = sums[:, 4 * k:].astype(np.int64)
    from_all = sums[:, 3 * k:4 * k].astype(np.int64)
    seekers = np.empty((len(sizes), 2, k), dtype=np.int64)
    seekers[:, 0], seekers[:, 1] = from_all, entrants
    if seekers.max(initial=0) >= MAX_SEEKERS:
        raise ValueError(f"job seekers of one community and profession: {seekers.max():,}, "
                         f"beyond the labour market's limit {MAX_SEEKERS:.0e}")
    hired_movers, hired_entrants, unplaced = _match(
        open_jobs, attract, is_trust, params, rounds, starts, sizes, comm, slot, seekers,
        community_positions)
    filled = filled + hired_movers + hired_entrants
    # who of the movers was hired, by origin: a draw without replacement from the movers'
    # composition; which of them went to the trust: again without replacement, so that the
    # flows into each employer type add up to its hires
    hires = np.add.reduceat(np.concatenate([hired_movers, hired_movers * trust_rows], axis=1),
                            starts, axis=0)
    h_trust = inversion.hypergeometric(community_uniforms[1], from_trust,
                                       from_all - from_trust, hires[:, :k])
    h_muni = hires[:, :k] - h_trust
    t_from_trust = inversion.hypergeometric(community_uniforms[2], h_trust, h_muni,
                                            hires[:, k:])
    m_to_trust = hires[:, k:] - t_from_trust
    hired_entrants = hired_entrants + placement_hired
    if detail is not None:
        detail.update(quits=quits, exits=exits, leavers=leavers, hired_movers=hired_movers,
                      hired_entrants=hired_entrants, entrants=entrants, graduates=graduates)
    # per employer, all professions: entrants hired, exits, quits, leavers, placement hires,
    # quits avoided by projects (expected)
    per_employer = np.zeros((n, 6))
    per_employer[:, 0] = hired_entrants.sum(axis=1)
    per_employer[:, 1] = exits.sum(axis=1)
    per_employer[:, 2] = quits.sum(axis=1)
    per_employer[:, 3] = leavers.sum(axis=1)
    if placement_graduates is not None:
        per_employer[:, 4] = placement_hired.sum(axis=1)
    if retention is not None:
        per_employer[:, 5] = (staff * (raw - q)).sum(axis=1)
    per_community = np.add.reduceat(per_employer, starts, axis=0)
    per_community[:, 3] += unplaced[:, 0].sum(axis=1)
    between = np.empty((len(sizes), 4), dtype=np.int64)
    between[:, 0] = t_from_trust.sum(axis=1)
    between[:, 1] = (h_trust - t_from_trust).sum(axis=1)
    between[:, 2] = m_to_trust.sum(axis=1)
    between[:, 3] = (h_muni - m_to_trust).sum(axis=1)
    flows = [Flows(trust_to_trust=tt, trust_to_municipality=tm, municipality_to_trust=mt,
                   municipality_to_municipality=mm, entrants_hired=int(e), exits=int(x),
                   quits=int(qu), left_community=int(lc), placement_hires=int(ph),
                   fte_retained=fr)
             for (tt, tm, mt, mm), (e, x, qu, lc, ph, fr)
             in zip(between.tolist(), per_community.tolist(), strict=True)]
    return filled, flows


def _match(open_jobs: np.ndarray, attract: np.ndarray, is_trust: np.ndarray,
           params: LabourParams, rounds: list[np.random.Generator], starts: np.ndarray,
           sizes: np.ndarray, comm: np.ndarray, slot: np.ndarray, seekers: np.ndarray,
           community_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Job seekers choose employers with vacancies, or the outside option.

    ``open_jobs`` are the vacancies that can be filled this year. Two groups of seekers per
    community and profession (``seekers``: communities x 2 x professions): movers (quitters
    who stay, staff above their positions) and entrants (new staff from outside, who prefer
    the hospital by ``graduate_trust_preference``). In each round every seeker draws from a
    multinomial logit over the community's employers, weight vacancies x exp(choice_sensitivity
    x A), and the outside option, weight ``outside_option`` x the community's positions (at
    A = 0); an employer takes at most its vacancies (movers first: they are experienced), the
    rest try again; who chose the outside option, or found nothing after the last round,
    leaves.

    Returns:
        Movers and entrants hired per employer and profession, and the seekers of each group
        not placed (communities x 2 x professions).
    """
    n, k = open_jobs.shape
    width = int(sizes.max())
    beta = params.choice_sensitivity
    # weights of employers per group (movers, entrants) and of the outside option, all scaled
    # by the same factor so that the largest exponent is 0
    logits = np.empty((n, 2, k))
    np.multiply(attract, beta, out=logits[:, 0])
    np.add(logits[:, 0], beta * params.graduate_trust_preference * is_trust[:, None],
           out=logits[:, 1])
    shift = max(float(logits.max()), 0.0)
    pull = np.exp(logits - shift)
    weights = np.zeros((len(sizes), 2, k, width + 1))
    weights[..., width] = (params.outside_option * math.exp(-shift)
                           * community_positions)[:, None, :]
    hired = np.zeros((n, 2, k), dtype=np.int64)
    seekers = seekers.copy()
    left = np.zeros_like(seekers)  # took the outside option
    vac = open_jobs
    for rng in rounds:
        weights[comm, :, :, slot] = vac[:, None, :] * pull
        total = weights.sum(axis=3)
        live = (seekers > 0) & (total > 0)
        if not live.any():
            break
        # every seeker chooses on its own, seeker i of each group by the round's i-th row of
        # uniforms (one column per group): a paired run meets the same uniforms
        choosing = np.where(live, seekers, 0).ravel()
        draw = inversion.choose(rng, choosing, weights.reshape(choosing.size, -1)
                                ).reshape(weights.shape)
        at = draw[comm, :, :, slot]  # (n, 2, k)
        got = np.minimum(at, vac[:, None, :])
        np.minimum(got[:, 1], vac - got[:, 0], out=got[:, 1])
        hired += got
        vac = vac - got[:, 0] - got[:, 1]
        left += draw[..., width]
        seekers -= np.add.reduceat(got, starts, axis=0) + draw[..., width]
    return hired[:, 0], hired[:, 1], seekers + left


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
