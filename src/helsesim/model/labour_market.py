"""The labour market's yearly step as pure functions of arrays: who quits, leaves the sector or
the community, who arrives from the rest of the country, and how job seekers choose employers
(:func:`labour_years`, every community at once). :class:`~helsesim.model.workforce.Workforce`
owns the state and calls it once a year; the functions own no state, so they can be tested and
timed alone. Every draw is the inverse CDF of its own uniform in a layout fixed by the shapes
(common random numbers: :mod:`helsesim.model.inversion`, docs/ODD.md 4.9). Equations and
sources: docs/ODD.md 7.10.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from helsesim.model import inversion

if TYPE_CHECKING:
    from helsesim.config import LabourParams


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
