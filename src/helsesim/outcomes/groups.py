"""The state of one or more years as arrays, and its split into groups.

The model hands over its state once per collection as a :class:`YearState` (one row per
municipality, trust, tie, board and new or running project). Year outcomes
(:mod:`helsesim.outcomes.yearly`) are pure functions of a :class:`YearGroups`: the state split
into groups, the whole scenario (one group) or each health community, for one year or for
several years laid end to end (:func:`stack`), so that a run's years are computed in one
grouped pass over the arrays. Intermediate sums are shared through cached properties.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from helsesim.outcomes.state import YearState
from helsesim.outcomes.tables import SIZE_CLASSES

_S = len(SIZE_CLASSES)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0, else NaN."""
    return np.divide(num, den, out=np.full(np.shape(den), np.nan), where=den > 0)


@dataclass
class YearBlocks:
    """Which year each row of a (stacked) :class:`YearState` belongs to: the year's index for
    every municipality, board (and trust), tie and new or running project, and each year's
    slice of the municipalities and of the boards."""

    n_years: int
    municipality_year: np.ndarray
    board_year: np.ndarray
    edge_year: np.ndarray
    new_year: np.ndarray
    running_year: np.ndarray
    municipality_slices: list[slice]
    board_slices: list[slice]

    @classmethod
    def of(cls, state: YearState) -> YearBlocks:
        """One year: every row in year 0."""
        return cls.stacked([state])

    @classmethod
    def stacked(cls, states: Sequence[YearState]) -> YearBlocks:
        def year_of(sizes: list[int]) -> np.ndarray:
            return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)

        def slices(sizes: list[int]) -> list[slice]:
            ends = np.cumsum(sizes).tolist()
            return [slice(end - size, end) for size, end in zip(sizes, ends, strict=True)]

        municipalities = [len(s.municipality_community) for s in states]
        boards = [len(s.board_budget) for s in states]
        return cls(len(states), year_of(municipalities), year_of(boards),
                   year_of([len(s.edge_community) for s in states]),
                   year_of([len(s.new_community) for s in states]),
                   year_of([len(s.running_community) for s in states]),
                   slices(municipalities), slices(boards))


def stack(states: Sequence[YearState]) -> tuple[YearState, YearBlocks]:
    """Several years' states laid end to end (the arrays concatenated, year by year) and
    which year each row belongs to."""
    if len(states) == 1:
        return states[0], YearBlocks.of(states[0])
    first = states[0]
    arrays = {f.name: np.concatenate([getattr(s, f.name) for s in states])
              for f in fields(YearState) if f.name not in ("year", "communities")}
    return (YearState(year=first.year, communities=first.communities, **arrays),
            YearBlocks.stacked(states))


class YearGroups:
    """One or more years' :class:`YearState` split into ``n`` groups: per year, one group (the
    scenario) or one per community; group ``year * per_year + g``.

    Several years are computed at once from their states laid end to end (:func:`stack`):
    a group's sums (``np.bincount``) add the same values in the same order as for its year
    alone, and the ratios are elementwise, so every value is the same as a year at a time. The
    two computations that are not sums per group, the Gini index (sorted cumulative sums) and
    the flows (a matrix product), are made year by year on the same arrays as for one year.
    """

    def __init__(self, state: YearState, by_community: bool,
                 blocks: YearBlocks | None = None) -> None:
        self.state = state
        blocks = blocks or YearBlocks.of(state)
        self.blocks = blocks
        communities = len(state.communities)
        self.per_year = communities if by_community else 1
        self.n = blocks.n_years * self.per_year
        boards = np.tile(np.arange(communities, dtype=np.int64), blocks.n_years)
        if by_community:
            self.municipality_group = (blocks.municipality_year * communities
                                       + state.municipality_community)
            self.trust_group = blocks.board_year * communities + boards
            self.edge_group = np.where(state.edge_community >= 0,
                                       blocks.edge_year * communities + state.edge_community,
                                       -1)
            self.project_group = (blocks.new_year * communities + state.new_community,
                                  blocks.running_year * communities + state.running_community)
        else:
            self.municipality_group = blocks.municipality_year
            self.trust_group = blocks.board_year
            self.edge_group = np.where(state.edge_community >= 0, blocks.edge_year, -1)
            self.project_group = (blocks.new_year, blocks.running_year)
        self.board_group = self.trust_group  # board i is the board of trust i's community

    def sum(self, groups: np.ndarray, values: np.ndarray | None, size: int | None = None
            ) -> np.ndarray:
        """Sum (count, without values) per group."""
        return np.bincount(groups, weights=values, minlength=self.n if size is None else size)

    def by_size(self, values: np.ndarray | None) -> np.ndarray:
        """(groups, size classes) sums (counts, without values) over municipalities."""
        return self.sum(self.size_group, values, self.n * _S).reshape(self.n, _S)

    @cached_property
    def size_group(self) -> np.ndarray:
        return self.municipality_group * _S + self.state.size

    @cached_property
    def municipal_positions(self) -> np.ndarray:
        return self.state.municipal_positions.sum(axis=1)

    @cached_property
    def municipal_staff(self) -> np.ndarray:
        return self.state.municipal_staff.sum(axis=1)

    @cached_property
    def trust_positions(self) -> np.ndarray:
        return self.state.trust_positions.sum(axis=1)

    @cached_property
    def trust_staff(self) -> np.ndarray:
        return self.state.trust_staff.sum(axis=1)

    @cached_property
    def n_municipalities(self) -> np.ndarray:
        return self.sum(self.municipality_group, None)

    @cached_property
    def n_boards(self) -> np.ndarray:
        return self.sum(self.board_group, None)

    @cached_property
    def n_new(self) -> np.ndarray:
        return self.sum(self.project_group[0], None)

    @cached_property
    def mean_trust(self) -> np.ndarray:
        return ratio(self.sum(self.municipality_group, self.state.trust), self.n_municipalities)

    def mean_over_municipalities(self, values: np.ndarray) -> np.ndarray:
        return ratio(self.sum(self.municipality_group, values), self.n_municipalities)

    def mean_over_boards(self, column: np.ndarray) -> np.ndarray:
        return ratio(self.sum(self.board_group, column), self.n_boards)

    @cached_property
    def staff_by_size(self) -> np.ndarray:
        """(groups, size classes) municipal staff."""
        return self.by_size(self.municipal_staff)

    @cached_property
    def positions_by_size(self) -> np.ndarray:
        return self.by_size(self.municipal_positions)

    @cached_property
    def population_by_size(self) -> np.ndarray:
        return self.by_size(self.state.population)

    # per-size ratios shared by the three size classes' outcomes (computed once a year, as a
    # matrix: the same elementwise division as one column at a time)
    @cached_property
    def count_by_size(self) -> np.ndarray:
        """(groups, size classes) municipalities."""
        return self.by_size(None)

    @cached_property
    def participation_by_size(self) -> np.ndarray:
        return ratio(self.by_size(self.state.active), self.count_by_size)

    @cached_property
    def mean_trust_by_size(self) -> np.ndarray:
        return ratio(self.by_size(self.state.trust), self.count_by_size)

    @cached_property
    def shift_burden_by_size(self) -> np.ndarray:
        return ratio(self.by_size(self.state.uncompensated), self.population_by_size)

    @cached_property
    def vacancy_rate_by_size(self) -> np.ndarray:
        return 1 - ratio(self.staff_by_size, self.positions_by_size)

    @cached_property
    def staff_per_1000_by_size(self) -> np.ndarray:
        return 1000 * ratio(self.staff_by_size, self.population_by_size)

    # totals per group shared by the vacancy outcomes
    @cached_property
    def municipal_staff_total(self) -> np.ndarray:
        return self.sum(self.municipality_group, self.municipal_staff)

    @cached_property
    def municipal_positions_total(self) -> np.ndarray:
        return self.sum(self.municipality_group, self.municipal_positions)

    @cached_property
    def trust_staff_total(self) -> np.ndarray:
        return self.sum(self.trust_group, self.trust_staff)

    @cached_property
    def trust_positions_total(self) -> np.ndarray:
        return self.sum(self.trust_group, self.trust_positions)

    @cached_property
    def shift_cost_total(self) -> np.ndarray:
        return self.sum(self.municipality_group, self.state.shift_cost)

    @cached_property
    def uncompensated_total(self) -> np.ndarray:
        return self.sum(self.municipality_group, self.state.uncompensated)

    @cached_property
    def flows(self) -> np.ndarray:
        """(groups, FLOW_KEYS) each year's labour flows summed per group (one product a
        year)."""
        out = []
        for year, boards in enumerate(self.blocks.board_slices):
            local = self.board_group[boards] - year * self.per_year
            member = np.zeros((self.per_year, len(local)))
            member[local, np.arange(len(local))] = 1.0
            out.append(member @ self.state.board_flows[boards])
        return np.concatenate(out)

    def each_year(self, compute: Callable[[np.ndarray, slice, int], np.ndarray]
                  ) -> np.ndarray:
        """``compute(groups, municipalities, n)`` for each year's municipalities (a slice of
        the arrays) and their groups within the year, concatenated: for what is not a sum."""
        return np.concatenate([
            compute(self.municipality_group[rows] - year * self.per_year, rows, self.per_year)
            for year, rows in enumerate(self.blocks.municipality_slices)])

    def vacancy_rate_of_sizes(self, size: int) -> np.ndarray:
        return self.vacancy_rate_by_size[:, size]

    def vacancy_rate_of_profession(self, profession: int) -> np.ndarray:
        s = self.state
        positions = (self.sum(self.municipality_group, s.municipal_positions[:, profession])
                     + self.sum(self.trust_group, s.trust_positions[:, profession]))
        staff = (self.sum(self.municipality_group, s.municipal_staff[:, profession])
                 + self.sum(self.trust_group, s.trust_staff[:, profession]))
        return 1 - ratio(staff, positions)
