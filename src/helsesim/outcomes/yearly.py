"""Year outcomes: what is recorded for every year, from the year's state as arrays.

Every year outcome is a pure function of a :class:`~helsesim.outcomes.groups.YearGroups`, the
year's state (:class:`~helsesim.outcomes.state.YearState`) split into groups: the whole
scenario (one group) or each health community, for one year or for all the years of a run at
once. The indices are those of :mod:`helsesim.outcomes.metrics`; definitions in docs/ODD.md §8.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from helsesim.outcomes import metrics
from helsesim.outcomes.groups import YearGroups, ratio, stack
from helsesim.outcomes.registry import Better, Outcome, collect
from helsesim.outcomes.state import FLOW_KEYS, FLOW_LABELS, MONEY_KEYS, YearState
from helsesim.outcomes.tables import LEAD_CLASSES, PROFESSIONS, SIZE_CLASSES

__all__ = ["FLOW_KEYS", "MONEY_KEYS", "OUTCOMES", "YearGroups", "YearState", "year_rows",
           "years_columns", "years_rows"]

#: Trust at or above this is high (``share_high_trust``).
HIGH_TRUST = 0.6

# -- the year outcomes, in column order ----------------------------------------------------------

def budget(g: YearGroups) -> np.ndarray:
    return g.sum(g.board_group, g.state.board_budget)


def n_new_projects(g: YearGroups) -> np.ndarray:
    return g.n_new


def funded_amount(g: YearGroups) -> np.ndarray:
    return g.sum(g.project_group[0], g.state.new_budget)


def n_active_projects(g: YearGroups) -> np.ndarray:
    return g.sum(g.project_group[1], None)


def recruitment_share_new(g: YearGroups) -> np.ndarray:
    return ratio(g.sum(g.project_group[0], g.state.new_recruitment), g.n_new)


def _participation(size: int) -> Callable[[YearGroups], np.ndarray]:
    def participation(g: YearGroups) -> np.ndarray:
        return g.participation_by_size[:, size]
    return participation


def gini_benefit_per_capita(g: YearGroups) -> np.ndarray:
    s = g.state
    per_capita = s.benefit / s.population
    return g.each_year(lambda groups, rows, n: metrics.gini_by_group(
        per_capita[rows], s.population[rows], groups, n))


def theil_benefit_per_capita(g: YearGroups) -> np.ndarray:
    s = g.state
    return metrics.theil_by_group(s.benefit / s.population, s.population, g.municipality_group,
                                  g.n)


def hoover_benefit(g: YearGroups) -> np.ndarray:
    s = g.state
    return metrics.hoover_by_group(s.benefit, s.population, g.municipality_group, g.n)


def small_representation_ratio(g: YearGroups) -> np.ndarray:
    s = g.state
    return metrics.representation_ratio_by_group(s.benefit, s.population, s.size == 0,
                                                 g.municipality_group, g.n)


def vacancy_rate(g: YearGroups) -> np.ndarray:
    positions = g.municipal_positions_total + g.trust_positions_total
    staff = g.municipal_staff_total + g.trust_staff_total
    return 1 - ratio(staff, positions)


def _vacancy_rate_of_size(size: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.vacancy_rate_of_sizes(size)


def vacancy_rate_trust(g: YearGroups) -> np.ndarray:
    return 1 - ratio(g.trust_staff_total, g.trust_positions_total)


def _vacancy_rate_of_profession(profession: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.vacancy_rate_of_profession(profession)


def mean_trust(g: YearGroups) -> np.ndarray:
    return g.mean_trust


def share_high_trust(g: YearGroups) -> np.ndarray:
    return g.mean_over_municipalities((g.state.trust >= HIGH_TRUST).astype(float))


def decision_equity_sd(g: YearGroups) -> np.ndarray:
    var = g.mean_over_municipalities(g.state.trust ** 2) - g.mean_trust ** 2
    return np.sqrt(np.maximum(var, 0.0))


def _mean_trust_of_size(size: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.mean_trust_by_size[:, size]


def mean_tie_strength(g: YearGroups) -> np.ndarray:
    inside = g.edge_group >= 0
    groups = g.edge_group[inside]
    return np.nan_to_num(ratio(g.sum(groups, g.state.tie[inside]), g.sum(groups, None)))


def mean_knowledge(g: YearGroups) -> np.ndarray:
    return g.mean_over_municipalities(g.state.knowledge)


def task_transfers(g: YearGroups) -> np.ndarray:
    return g.sum(g.trust_group, g.state.transfers).astype(np.int64)


def task_shift_cost(g: YearGroups) -> np.ndarray:
    return g.shift_cost_total


def uncompensated_task_shift_cost(g: YearGroups) -> np.ndarray:
    return g.uncompensated_total


def _shift_burden_of_size(size: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.shift_burden_by_size[:, size]


def influence_concentration(g: YearGroups) -> np.ndarray:
    return g.mean_over_boards(g.state.board_influence[:, 0])


def _influence_share(lead_class: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.mean_over_boards(g.state.board_influence[:, 1 + lead_class])


def _board_sum(column: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.sum(g.board_group, g.state.board_money[:, column])


def trust_cost_pressure(g: YearGroups) -> np.ndarray:
    return g.mean_over_boards(g.state.board_money[:, MONEY_KEYS.index("trust_cost_pressure")])


def retention_fte(g: YearGroups) -> np.ndarray:
    return g.sum(g.board_group, g.state.board_retention_fte)


def compensated_share(g: YearGroups) -> np.ndarray:
    return 1 - ratio(g.uncompensated_total, g.shift_cost_total)


def _moves(flow: int) -> Callable[[YearGroups], np.ndarray]:
    def moves(g: YearGroups) -> np.ndarray:
        total = g.flows[:, flow]
        return total if FLOW_KEYS[flow] == "fte_retained" else np.rint(total).astype(np.int64)
    return moves


def staff_fte_municipal(g: YearGroups) -> np.ndarray:
    return g.municipal_staff_total


def staff_fte_small(g: YearGroups) -> np.ndarray:
    return g.staff_by_size[:, 0]


def vacancy_gap_small_large(g: YearGroups) -> np.ndarray:
    return g.vacancy_rate_of_sizes(0) - g.vacancy_rate_of_sizes(len(SIZE_CLASSES) - 1)


def _staff_per_1000(size: int) -> Callable[[YearGroups], np.ndarray]:
    return lambda g: g.staff_per_1000_by_size[:, size]


_SHARE = "share of positions"
#: Fewer staff leaving the sector and more new staff hired help recruitment.
_MOVE_DIRECTION: dict[str, Better] = {"exits": "lower", "entrants_hired": "higher",
                                      "quits": "lower", "left_community": "lower",
                                      "placement_hires": "higher", "fte_retained": "higher"}
_DEFINED = "8.1"

OUTCOMES: dict[str, Outcome] = collect([
    Outcome("budget", "RS grant available this year", "NOK/yr", "neither", "year", budget,
            "sum of the boards' yearly budgets (also given in year 0)", basis="flow",
            theme="Projects", scale=1e-6, shown_unit="MNOK/yr"),
    Outcome("money_available", "RS money available this year", "NOK/yr", "neither", "year",
            _board_sum(0), "the boards' grant plus the money carried over from the year "
            "before", basis="flow", theme="Projects", scale=1e-6, shown_unit="MNOK/yr"),
    Outcome("call_money", "RS money offered in open calls this year", "NOK/yr", "neither",
            "year", _board_sum(1), "money the open calls offered (the whole money under "
            "`open_call` and `lottery`, its stream under `two_stream`, 0 otherwise)",
            basis="flow", theme="Projects", scale=1e-6, shown_unit="MNOK/yr"),
    Outcome("money_asked", "RS money asked for in open calls this year", "NOK/yr", "neither",
            "year", _board_sum(2), "the budgets the open calls' proposals asked for",
            basis="flow", theme="Projects", scale=1e-6, shown_unit="MNOK/yr"),
    *(Outcome(f"proposals_{c}", f"Proposals and agenda items this year by the {c}"
              + ("" if c == "trust" else " municipalities"), "proposals", "neither", "year",
              _board_sum(4 + i), f"open-call proposals, agenda items and transfer proposals "
              f"made this year by the {c}" + ("" if c == "trust" else " municipalities"),
              basis="flow", theme="Equity")
      for i, c in enumerate(LEAD_CLASSES)),
    Outcome("n_new_projects", "Projects funded this year", "projects", "neither", "year",
            n_new_projects, basis="flow", theme="Projects"),
    Outcome("funded_amount", "RS money granted this year", "NOK/yr", "neither", "year",
            funded_amount, "total budget of the projects funded this year", basis="flow",
            theme="Projects", scale=1e-6, shown_unit="MNOK/yr"),
    Outcome("n_active_projects", "Projects running into a later year", "projects", "neither",
            "year", n_active_projects, "projects still `active` at collection (a project in its "
            "last year has already been implemented or failed)", theme="Projects"),
    Outcome("recruitment_share_new", "Share of new projects aimed at recruitment",
            "share of projects", "neither", "year", recruitment_share_new,
            "share of this year's funded projects of type `recruitment` (NaN without new "
            "projects)", basis="flow", theme="Recruitment"),
    *(Outcome(f"participation_{size}", f"{size.capitalize()} municipalities taking part this "
              "year", f"share of {size} municipalities", "higher", "year", _participation(c),
              f"share of the {size} municipalities party to a project funded or running this "
              "year (8.2)", basis="flow", theme="Participation")
      for c, size in enumerate(SIZE_CLASSES)),
    Outcome("gini_benefit_per_capita", "Gini of RS benefit per inhabitant",
            "Gini: 0 = equal, 1 = one gets all", "lower", "year", gini_benefit_per_capita,
            "population-weighted Gini of cumulative benefit per inhabitant (8.1)",
            in_summary=True, theme="Equity", headline=1),
    Outcome("theil_benefit_per_capita", "Theil index of RS benefit per inhabitant",
            "Theil: 0 = equal", "lower", "year", theil_benefit_per_capita,
            "population-weighted Theil T of cumulative benefit per inhabitant (8.1)",
            in_summary=True, theme="Equity"),
    Outcome("hoover_benefit", "Hoover index of RS benefit against population",
            "share of money to move", "lower", "year", hoover_benefit,
            "Hoover index of cumulative benefit against population (8.1)", in_summary=True,
            theme="Equity"),
    Outcome("small_representation_ratio",
            "Small municipalities' share of benefit / share of population",
            "ratio: 1 = proportional", "higher", "year", small_representation_ratio,
            "benefit share over population share of the small municipalities (8.1)",
            in_summary=True, theme="Equity", headline=2),
    Outcome("vacancy_rate", "Vacancy rate, all employers (final year)", _SHARE, "lower", "year",
            vacancy_rate, "vacancy rate of all employers (municipalities and trusts), all "
            "professions (8.2)", in_summary=True, theme="Recruitment", headline=4),
    *(Outcome(f"vacancy_rate_{size}", f"Vacancy rate, {size} municipalities (final year)",
              _SHARE, "lower", "year", _vacancy_rate_of_size(c),
              f"vacancy rate of the {size} municipalities (8.2)", in_summary=True,
              theme="Recruitment", headline=5 if size == "small" else None)
      for c, size in enumerate(SIZE_CLASSES)),
    Outcome("vacancy_rate_trust", "Vacancy rate, health trust (final year)", _SHARE, "lower",
            "year", vacancy_rate_trust, "vacancy rate of the trust(s)", in_summary=True,
            theme="Recruitment"),
    Outcome("vacancy_gap_small_large", "Vacancy rate of small minus large municipalities "
            "(final year)", "share of positions", "lower", "year", vacancy_gap_small_large,
            "`vacancy_rate_small` − `vacancy_rate_large` (equity of outcomes; P8)",
            in_summary=True, theme="Equity"),
    Outcome("staff_fte_municipal", "Filled municipal FTE (final year)", "FTE", "higher", "year",
            staff_fte_municipal, "staff (filled FTE) of all municipalities, all professions",
            in_summary=True, theme="Recruitment"),
    Outcome("staff_fte_small", "Filled FTE in small municipalities (final year)", "FTE",
            "higher", "year", staff_fte_small, "staff (filled FTE) of the small "
            "municipalities, all professions", in_summary=True, theme="Recruitment"),
    *(Outcome(f"staff_per_1000_{size}", f"Filled FTE per 1,000 inhabitants, {size} "
              "municipalities (final year)", "FTE/1000 inh.", "higher", "year",
              _staff_per_1000(c), f"staff (filled FTE) of the {size} municipalities per 1,000 "
              "of their inhabitants", in_summary=True, theme="Equity")
      for c, size in enumerate(SIZE_CLASSES)),
    *(Outcome(f"vacancy_rate_{prof}", f"Vacancy rate, {prof.replace('_', ' ')}s (final year)",
              _SHARE, "lower", "year", _vacancy_rate_of_profession(j),
              f"vacancy rate of {prof.replace('_', ' ')} positions (municipalities and trusts)",
              in_summary=True, theme="Recruitment")
      for j, prof in enumerate(PROFESSIONS)),
    Outcome("mean_trust", "Municipalities' mean trust in the health community (final year)",
            "trust (0-1)", "higher", "year", mean_trust, "mean trust of the municipalities "
            "(P4)", in_summary=True, theme="Trust", headline=7),
    Outcome("share_high_trust", "Municipalities with high trust (final year)",
            "share of municipalities", "higher", "year", share_high_trust,
            f"share of municipalities with trust ≥ {HIGH_TRUST} (P4)", in_summary=True,
            theme="Trust"),
    Outcome("decision_equity_sd", "Spread of trust across municipalities (final year)",
            "trust (0-1)", "lower", "year", decision_equity_sd, "population standard deviation "
            "of trust across municipalities (decision equity, 8.1)", in_summary=True,
            theme="Trust"),
    *(Outcome(f"mean_trust_{size}", f"{size.capitalize()} municipalities' mean trust (final "
              "year)", "trust (0-1)", "higher", "year", _mean_trust_of_size(c),
              f"mean trust of the {size} municipalities", in_summary=True, theme="Trust")
      for c, size in enumerate(SIZE_CLASSES)),
    Outcome("mean_tie_strength", "Mean collaboration tie strength (final year)",
            "tie strength (0-1)", "higher", "year", mean_tie_strength, "mean strength of the "
            "ties whose two ends belong to the same community; 0 without such ties (8.2)",
            in_summary=True, theme="Collaboration"),
    Outcome("mean_knowledge", "Municipalities' mean knowledge (final year)", "knowledge (0-1)",
            "higher", "year", mean_knowledge, "mean knowledge (share of good practice adopted) "
            "of the municipalities", in_summary=True, theme="Collaboration"),
    Outcome("task_transfers", "Implemented task transfers", "transfers", "neither", "year",
            task_transfers, "implemented task transfers, cumulative, summed over trusts",
            in_summary=True, theme="Task shifting"),
    Outcome("task_shift_cost", "Cost of tasks shifted to municipalities (final year)",
            "NOK/yr", "neither", "year", task_shift_cost, "yearly cost of the services the "
            "municipalities have taken over from the trust", in_summary=True,
            theme="Task shifting", scale=1e-6, shown_unit="MNOK/yr"),
    Outcome("uncompensated_task_shift_cost",
            "Uncompensated cost of tasks shifted to municipalities (final year)", "NOK/yr",
            "lower", "year", uncompensated_task_shift_cost, "the part of `task_shift_cost` "
            "not paid by the trust", in_summary=True, theme="Task shifting", scale=1e-6,
            shown_unit="MNOK/yr", headline=3),
    *(Outcome(f"shift_burden_per_capita_{size}", f"Uncompensated shifted cost per inhabitant, "
              f"{size} municipalities (final year)", "NOK/inh./yr", "lower", "year",
              _shift_burden_of_size(c), f"uncompensated task-shift cost of the {size} "
              "municipalities over their population", in_summary=True, theme="Task shifting")
      for c, size in enumerate(SIZE_CLASSES)),
    Outcome("compensated_share", "Share of shifted cost the trust pays (final year)",
            "share of cost", "higher", "year", compensated_share, "1 - "
            "`uncompensated_task_shift_cost` / `task_shift_cost` (NaN without transfers)",
            in_summary=True, theme="Task shifting"),
    Outcome("trust_cost_pressure", "The trust's cost pressure (final year)",
            "share of its budget", "neither", "year", trust_cost_pressure, "cost growth its "
            "funding has not covered plus the cost of its vacancies, as a share of its "
            "budget (7.2; mean over trusts)", in_summary=True, theme="Task shifting"),
    Outcome("retention_fte", "Staff whose quit hazard projects removed this year", "FTE",
            "higher", "year", retention_fte, "the share of each employer's quit hazard that "
            "running and lasting projects remove, times its filled FTE, summed (7.10)",
            basis="flow", theme="Recruitment"),
    Outcome("influence_concentration", "Concentration of influence on the board",
            "Herfindahl index", "lower", "year", influence_concentration,
            "Herfindahl index of board weights (8.1; mean over boards)",
            in_summary=True, theme="Equity"),
    *(Outcome(f"influence_share_{who}", f"Share of board weight held by the {who}"
              + ("" if who == "trust" else " municipalities"), "share of weight", "neither",
              "year", _influence_share(i), f"share of board weight held by the {who}"
              + ("" if who == "trust" else " municipalities") + " (8.1; mean over boards"
              + ("; with a coordinator, the unseated small municipalities' shares too)"
                 if who == "small" else ")"),
              in_summary=True, theme="Equity")
      for i, who in enumerate(LEAD_CLASSES)),
    *(Outcome(f"moves_{flow}", f"Staff this year who {FLOW_LABELS[flow]}", "FTE",
              _MOVE_DIRECTION.get(flow, "neither"), "year",
              _moves(k), f"this year's labour flow `{flow}`: staff who {FLOW_LABELS[flow]} "
              "(7.10), summed over communities; 0 in year 0; in the summary: the last year's",
              basis="flow", in_summary=True, theme="Recruitment")
      for k, flow in enumerate(FLOW_KEYS)),
])


def year_rows(state: YearState, by_community: bool) -> list[dict]:
    """The year's rows: one for the whole scenario, or one per community (with ``community``).

    Values are Python numbers (ints for counts), in the registry's column order."""
    return years_rows([state], by_community)


def years_rows(states: Sequence[YearState], by_community: bool) -> list[dict]:
    """The rows of several years (:func:`year_rows` of each, in order)."""
    columns = years_columns(states, by_community)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def years_columns(states: Sequence[YearState], by_community: bool) -> dict[str, list]:
    """The rows of several years as columns (``community`` first when by community, then
    ``year`` and the outcomes), computed in one pass over their states laid end to end: the
    same values as a year at a time."""
    state, blocks = stack(states)
    groups = YearGroups(state, by_community, blocks)
    per_year = groups.per_year
    columns: dict[str, list] = {}
    if by_community:
        columns["community"] = list(state.communities) * len(states)
    columns["year"] = [s.year for s in states for _ in range(per_year)]
    for name, outcome in OUTCOMES.items():
        columns[name] = np.asarray(outcome.compute(groups)).tolist()
    return columns
