"""The patterns P1-P9 as tests, not settings: each pattern's value, whether it holds, the
parameters that drive it, and whether it still holds when its most direct parameter moves by
-50 % and +50 % (docs/ODD.md §9). Then the medians of the summary keys per design, P7's
anchoring sweep, P9 by number of municipal parties within each kind of lead, and the sign of
two_stream - open_call uncompensated task-shift cost under +-50 % of the project-size
parameters (issue 10 item 4).

The labour market's own checks (its calibration table against targets T7-T10, paired
experiments with synthetic project effects, and P8's ±50 % check) are in ``benchmarks/labour.py``.

Usage: python benchmarks/patterns.py [n_seeds] [scenario] [key=value ...]

Seeds 1..n_seeds (default 20) under every design, scenario ``nordland`` by default, 10 years
(``years=N`` to change); every other ``key=value`` is a numeric parameter override applied to
every run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import helsesim
from helsesim.config import SimConfig, _field, leaf_paths
from helsesim.model.allocation import DESIGNS

YEARS = 10

#: Summary keys whose medians are printed per design.
KEYS = ["spent_share", "oversubscription", "n_projects", "mean_project_budget",
        "median_project_budget", "recruitment_project_share", "lead_share_trust",
        "lead_share_large", "lead_share_small", "money_share_trust", "influence_share_trust",
        "influence_share_large", "influence_share_small", "proposal_share_small",
        "participation_ever_small", "participation_ever_medium", "participation_ever_large",
        "gini_benefit_per_capita", "small_representation_ratio", "mean_trust",
        "share_high_trust", "vacancy_rate", "vacancy_rate_small", "vacancy_rate_large",
        "retention_fte_years", "task_transfers", "compensated_share",
        "uncompensated_task_shift_cost", "trust_cost_pressure", "implementation_rate",
        "survival_rate", "mean_knowledge", "coordination_share", "info_gap_small_partners",
        "info_gap_medium_partners", "matthew_correlation", "mean_partners"]


@dataclass
class Run:
    """A run's summary and the tables the pattern checks read."""

    summary: dict
    projects: pd.DataFrame
    municipalities: pd.DataFrame
    years: pd.DataFrame


Runs = dict[str, list[Run]]  # design -> one run per seed


def simulate(scenario: str, design: str, seeds: range, years: int, over: dict) -> list[Run]:
    out = []
    for seed in seeds:
        r = helsesim.simulate(scenario, design, seed=seed, years=years, **over)
        out.append(Run(r.summary, r.projects, r.municipalities, r.years))
    return out


def med(runs: list[Run], key: str) -> float:
    values = np.array([r.summary[key] for r in runs], dtype=float)
    return float(np.median(values[~np.isnan(values)])) if (~np.isnan(values)).any() else np.nan


def partial_correlation(m: pd.DataFrame) -> float:
    """Correlation of initial experience with voluntary projects, given log capacity (P6)."""
    first = m[m["year"] == m["year"].min()].sort_values("municipality_id")
    last = m[m["year"] == m["year"].max()].sort_values("municipality_id")
    x = np.column_stack([np.ones(len(first)), np.log(first["capacity"].to_numpy())])

    def residual(y: np.ndarray) -> np.ndarray:
        return y - x @ np.linalg.lstsq(x, y, rcond=None)[0]

    a = residual(first["experience"].to_numpy(float))
    b = residual(last["voluntary_projects"].to_numpy(float))
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else np.nan


def implementation_by_parties(runs: list[Run]) -> pd.DataFrame:
    """Implementation rate of finished projects by lead kind and number of municipal parties
    (pooled over seeds): P9 within lead kinds, so lead capacity does not confound it."""
    pr = pd.concat([r.projects for r in runs], ignore_index=True)
    pr = pr[pr["status"].isin(["implemented", "failed"]) & (pr["stream"] != "transfer")]
    pr = pr.assign(lead=np.where(pr["lead_class"] == "trust", "trust", "municipality"),
                   parties=pr["n_municipalities"].clip(upper=4).map(
                       lambda k: "4+" if k >= 4 else str(int(k))),
                   implemented=pr["status"] == "implemented")
    return pr.groupby(["lead", "parties"])["implemented"].agg(["mean", "size"])


def p9_holds(runs: list[Run]) -> tuple[str, bool]:
    """Within each lead kind, projects with more municipal parties are implemented less often
    (the rate at the most parties below the rate at the fewest), and small partners lack more
    information than medium ones."""
    table = implementation_by_parties(runs)
    parts, ok = [], True
    for lead in ("municipality", "trust"):
        t = table.loc[lead]
        t = t[t["size"] >= 20]
        if len(t) < 2:
            continue
        few, many = t["mean"].iloc[0], t["mean"].iloc[-1]
        parts.append(f"{lead}: {t.index[0]} {few:.2f} -> {t.index[-1]} {many:.2f}")
        ok &= many < few
    small, medium = med(runs, "info_gap_small_partners"), med(runs, "info_gap_medium_partners")
    parts.append(f"info gap small {small:.2f} vs medium {medium:.2f}")
    return "; ".join(parts), bool(ok and small > medium)


@dataclass
class Pattern:
    name: str
    text: str
    designs: tuple[str, ...]
    check: Callable[[Runs], tuple[str, bool]]
    drivers: str
    direct: str  # the most direct parameter (a leaf name)


def p1(r: Runs) -> tuple[str, bool]:
    v = med(r["open_call"], "recruitment_project_share")
    return f"recruitment + pool share {v:.3f} (open call)", v < 0.10


def p2(r: Runs) -> tuple[str, bool]:
    parts, ok = [], True
    for d in ("open_call", "governance_led"):
        lead = med(r[d], "lead_share_trust") + med(r[d], "lead_share_large")
        infl = med(r[d], "influence_share_trust") + med(r[d], "influence_share_large")
        member = med(r[d], "member_share_trust") + med(r[d], "member_share_large")
        parts.append(f"{d}: lead {lead:.2f}, influence {infl:.2f} vs members {member:.2f}")
        ok &= lead > member and infl > member
    return "; ".join(parts), ok


def p3(r: Runs) -> tuple[str, bool]:
    g, o = r["governance_led"], r["open_call"]
    dn = np.median([a.summary["n_projects"] - b.summary["n_projects"]
                    for a, b in zip(g, o, strict=True)])
    db = np.median([a.summary["mean_project_budget"] - b.summary["mean_project_budget"]
                    for a, b in zip(g, o, strict=True)])
    spent = min(med(g, "spent_share"), med(o, "spent_share"))
    return (f"n_projects gov - open {dn:+.1f}, mean budget {db / 1e6:+.2f} MNOK, spent >= "
            f"{spent:.3f}", dn < 0 and db > 0 and spent >= 0.95)


def p4(r: Runs) -> tuple[str, bool]:
    parts, ok = [], True
    for d in ("open_call", "governance_led", "two_stream"):
        high, mean = med(r[d], "share_high_trust"), med(r[d], "mean_trust")
        parts.append(f"{d} {high:.2f}/{mean:.2f}")
        ok &= high > 0.5 and mean >= 0.6
    return "share_high_trust/mean_trust " + ", ".join(parts), ok


def p5(r: Runs) -> tuple[str, bool]:
    runs = r["open_call"]
    small = med(runs, "participation_ever_small")
    medium = med(runs, "participation_ever_medium")
    large = med(runs, "participation_ever_large")
    return (f"ever in 5 yr small {small:.2f}, medium {medium:.2f}, large {large:.2f} "
            "(seed 002: 0.36/0.46/0.66)", small < medium and small < large
            and 0.25 <= small <= 0.45)


def p6(r: Runs) -> tuple[str, bool]:
    v = float(np.nanmedian([partial_correlation(x.municipalities) for x in r["open_call"]]))
    return f"partial correlation (given log capacity) {v:.3f}", v > 0


def p7(r: Runs) -> tuple[str, bool]:
    impl, surv = med(r["open_call"], "implementation_rate"), med(r["open_call"],
                                                                   "survival_rate")
    return (f"implementation {impl:.2f}, survival {surv:.2f}",
            0.40 <= impl <= 0.80 and surv < 0.5)


def p8(r: Runs) -> tuple[str, bool]:
    runs = r["open_call"]
    small, large = med(runs, "vacancy_rate_small"), med(runs, "vacancy_rate_large")
    between = np.median([r.summary["moves_trust_to_municipality"]
                         + r.summary["moves_municipality_to_trust"]
                         + r.summary["moves_municipality_to_municipality"] for r in runs])
    exits = med(runs, "moves_exits")
    return (f"vacancy small {small:.3f} vs large {large:.3f}; moves {between:g} vs exits "
            f"{exits:g}", small > large and between > exits)


def p9(r: Runs) -> tuple[str, bool]:
    return p9_holds(r["open_call"] + r["governance_led"])


PATTERNS = [
    Pattern("P1", "< 10 % of projects target recruitment", ("open_call",), p1,
            "weight_recruitment, weight_personnel_pool, vacancy_pull, priority_recruitment, "
            "vacancies (labour market), recruitment dose", "weight_recruitment"),
    Pattern("P2", "trust and large lead and weigh more than their member share",
            ("open_call", "governance_led"), p2,
            "trust_seats, large_seats, capacity_influence, influence_experience, information, "
            "score_influence, trust_quality, proposals, apply_capacity", "score_influence"),
    Pattern("P3", "governance-led: fewer, larger projects at equal spending",
            ("open_call", "governance_led"), p3,
            "governance_projects (capacity), governance_breadth, budget_per_partner, "
            "agenda_need, base_budget, demand of the call", "governance_projects"),
    Pattern("P4", "most keep high trust despite criticism",
            ("open_call", "governance_led", "two_stream"), p4,
            "fairness_baseline, fairness_benefit, fairness_voice, fairness_shift, "
            "negotiated compensation, trust_rate", "fairness_baseline"),
    Pattern("P5", "voluntary participation rises with size (ever, 5 years)", ("open_call",),
            p5, "apply_intercept, join_intercept, apply_capacity, apply_cost, apply_need, "
            "apply_money, base_budget (demand), partner_mean", "apply_intercept"),
    Pattern("P6", "Matthew effect given capacity", ("open_call",), p6,
            "apply_experience, quality_experience, influence_experience, tie_gain",
            "apply_experience"),
    Pattern("P7", "many end before implementation, few survive", ("open_call",), p7,
            "implement_intercept, implement_anchoring, implement_knowledge, implement_dose, "
            "coordination_cost, survive_intercept, survive_anchoring", "implement_intercept"),
    Pattern("P8", "vacancies largest in small places; moves exceed exits", ("open_call",), p8,
            "size_attraction, remoteness_penalty, choice_sensitivity, retention_sensitivity, "
            "exit_share, inflow_rate (labour market)", "size_attraction"),
    Pattern("P9", "implementation falls with parties; small partners less informed",
            ("open_call", "governance_led"), p9,
            "coordination_*_fte, coordination_exponent, coordination_cost, setup_cost, "
            "info_gap_*, represented_share", "coordination_cost"),
]

#: Project-size parameters moved +-50 % for the task-shifting sign (issue 10 item 4).
SIZE_PARAMETERS = ("base_budget", "budget_per_partner", "transfer_cost_per_capita")


def default(name: str) -> float:
    obj = SimConfig()
    for part in leaf_paths()[name].split("."):
        obj = getattr(obj, part)
    return float(obj)


def moved_value(name: str, factor: float) -> float:
    """The default times ``factor``, kept within the parameter's validity bounds."""
    meta = _field(leaf_paths()[name]).metadata
    return min(max(default(name) * factor, meta["lo"]), meta["hi"])


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    scenario = sys.argv[2] if len(sys.argv) > 2 else "nordland"
    over = {k: float(v) for k, v in (a.split("=", 1) for a in sys.argv[3:])}
    years = int(over.pop("years", YEARS))
    seeds = range(1, n + 1)
    base: Runs = {d: simulate(scenario, d, seeds, years, over) for d in DESIGNS}
    pd.set_option("display.width", 200)
    table = pd.DataFrame({d: {k: med(runs, k) for k in KEYS} for d, runs in base.items()})
    heading(f"Medians over seeds 1-{n} ({scenario}, {years} years)")
    print(table.to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 1e4 else f"{v:,.0f}"))

    heading("Patterns: value, verdict, drivers, and the verdict at -50 % / +50 % of the most "
            "direct parameter")
    for pat in PATTERNS:
        value, ok = pat.check(base)
        x = default(pat.direct)
        verdicts = []
        for factor in (0.5, 1.5):  # within the validity bounds
            moved = {**over, pat.direct: moved_value(pat.direct, factor)}
            runs = {d: simulate(scenario, d, seeds, years, moved) for d in pat.designs}
            verdicts.append("holds" if pat.check(runs)[1] else "fails")
        print(f"{pat.name} {pat.text}\n   value: {value}\n   holds: {'yes' if ok else 'NO'}; "
              f"drivers: {pat.drivers}\n   {pat.direct} = {x:g}: x0.5 {verdicts[0]}, "
              f"x1.5 {verdicts[1]}")

    heading("P7: anchoring sweep under open_call (medians over seeds)")
    for a in (0.40, 0.55, 0.70):
        runs = simulate(scenario, "open_call", seeds, years, {**over, "anchoring_mean": a})
        print(f"anchoring_mean {a:.2f}: implementation {med(runs, 'implementation_rate'):.3f}, "
              f"survival {med(runs, 'survival_rate'):.3f}")

    heading("P9: implementation rate by lead kind and municipal parties (open call and "
            "governance-led, finished projects pooled)")
    print(implementation_by_parties(base["open_call"] + base["governance_led"]).round(3)
          .to_string())

    heading("Task shifting: two_stream - open_call uncompensated cost (MNOK/yr, median of paired "
            "differences) under +-50 % of project-size parameters")
    for name in ("(defaults)", *SIZE_PARAMETERS):
        for factor in ((1.0,) if name == "(defaults)" else (0.5, 1.5)):
            moved = over if name == "(defaults)" else {**over,
                                                       name: moved_value(name, factor)}
            two = simulate(scenario, "two_stream", seeds, years, moved)
            one = simulate(scenario, "open_call", seeds, years, moved)
            d = [a.summary["uncompensated_task_shift_cost"]
                 - b.summary["uncompensated_task_shift_cost"]
                 for a, b in zip(two, one, strict=True)]
            label = name if name == "(defaults)" else f"{name} x{factor:g}"
            print(f"{label:<34} {np.median(d) / 1e6:+7.2f}  (two_stream lower in "
                  f"{np.mean(np.array(d) < 0):.0%} of seeds)")


if __name__ == "__main__":
    main()
