"""Print medians of the pattern outcomes per design over paired seeds (a calibration aid), and
the further figures that the pattern criteria of docs/ODD.md §9 use: member shares, median
project budgets, the last year's labour moves and the anchoring sweep of P7 (open call), and
P9's implementation rate by number of partners (open call, projects of all runs pooled).

The labour market's own checks (its calibration table against targets T7-T10, paired
experiments with synthetic project effects, and P8's ±50 % check) are in ``benchmarks/labour.py``.

Usage: python benchmarks/patterns.py [n_seeds] [scenario] [key=value ...]

Seeds 1..n_seeds (default 30) under every design, scenario ``nordland`` by default, 10 years
(``years=N`` to change); every other ``key=value`` is a numeric parameter override applied to
every run (the anchoring sweep sets ``anchoring_mean`` itself).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import helsesim
from helsesim.model.allocation import DESIGNS

YEARS = 10

#: The summary keys whose medians are printed: those the core-model issue names, then extras.
KEYS = ["gini_benefit_per_capita", "theil_benefit_per_capita", "hoover_benefit",
        "small_representation_ratio", "lead_share_trust", "lead_share_large", "lead_share_small",
        "n_projects", "mean_project_budget", "recruitment_project_share", "task_transfers",
        "task_shift_cost", "uncompensated_task_shift_cost", "vacancy_rate", "vacancy_rate_small",
        "vacancy_rate_large", "vacancy_rate_trust", "mean_trust", "mean_trust_small",
        "mean_tie_strength", "participation_rate_small", "participation_rate_medium",
        "participation_rate_large", "lead_share_medium", "influence_share_trust",
        "influence_share_large",
        "share_high_trust", "implementation_rate", "survival_rate", "matthew_correlation",
        "mean_partners", "total_funded", "total_budget"]

#: Summary keys the criteria use that the medians table above does not show.
EXTRA_KEYS = ["member_share_trust", "member_share_large", "median_project_budget"]

#: The last year's labour flows (final row of ``Result.years``), with readable labels.
MOVES = {"moves_trust_to_municipality": "trust -> municipality",
         "moves_municipality_to_trust": "municipality -> trust",
         "moves_municipality_to_municipality": "municipality -> municipality",
         "moves_trust_to_trust": "trust -> trust",
         "moves_entrants_hired": "entrants hired",
         "moves_exits": "exits",
         "moves_left_community": "left for the rest of the country",
         "moves_quits": "quits"}
BETWEEN = ["moves_trust_to_municipality", "moves_municipality_to_trust",
           "moves_municipality_to_municipality"]

ANCHORING = (0.40, 0.55, 0.70)
SWEEP_DESIGN = "open_call"


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def rate(status: pd.Series) -> float:
    """Implemented / (implemented + failed)."""
    done = status.isin(["implemented", "failed"])
    return float((status[done] == "implemented").mean()) if done.any() else float("nan")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    scenario = sys.argv[2] if len(sys.argv) > 2 else "nordland"
    over = dict(a.split("=", 1) for a in sys.argv[3:])
    over = {k: float(v) for k, v in over.items()}
    years = int(over.pop("years", YEARS))
    seeds = range(1, n + 1)
    rows, moves, projects = [], [], []
    for design in DESIGNS:
        for seed in seeds:
            r = helsesim.simulate(scenario, design, seed=seed, years=years, **over)
            rows.append({"design": design, "seed": seed, **r.summary})
            if design == SWEEP_DESIGN:
                moves.append({"seed": seed, **r.years.iloc[-1][list(MOVES)].to_dict()})
                projects.append(r.projects.assign(seed=seed))
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.groupby("design")[KEYS].median().T.round(3).to_string())

    heading("Further summary keys the criteria use (medians over seeds)")
    print(df.groupby("design")[EXTRA_KEYS].median().T.round(3).to_string())

    heading(f"Last year's labour moves under {SWEEP_DESIGN} (medians over seeds)")
    mv = pd.DataFrame(moves)
    mv["between_employers"] = mv[BETWEEN].sum(axis=1)  # summed per seed, then the median
    for col, label in [*MOVES.items(), ("between_employers",
                                        "between employers (t->m + m->t + m->m, per seed)")]:
        print(f"{label:<50} {mv[col].median():g}")

    heading(f"P7: anchoring sweep under {SWEEP_DESIGN} (medians over seeds)")
    print(f"{'anchoring_mean':>14} {'implementation_rate':>20} {'survival_rate':>14}")
    for a in ANCHORING:
        sweep = [helsesim.simulate(scenario, SWEEP_DESIGN, seed=seed, years=years,
                                   **{**over, "anchoring_mean": a}).summary for seed in seeds]
        impl = np.nanmedian([s["implementation_rate"] for s in sweep])
        surv = np.nanmedian([s["survival_rate"] for s in sweep])
        print(f"{a:>14.2f} {impl:>20.3f} {surv:>14.3f}")

    heading(f"P9: implementation rate by n_partners, finished {SWEEP_DESIGN} projects of the "
            f"{n} runs pooled")
    pr = pd.concat(projects, ignore_index=True)
    pr = pr[pr["status"].isin(["implemented", "failed"])]
    bins = pr["n_partners"].clip(upper=4).map(lambda k: "4+" if k >= 4 else str(int(k)))
    print(f"{'n_partners':>10} {'implementation_rate':>20} {'projects':>9} {'led by trust':>13}")
    for b in ["0", "1", "2", "3", "4+"]:
        g = pr[bins == b]
        print(f"{b:>10} {rate(g['status']):>20.3f} {len(g):>9d} "
              f"{int((g['lead_class'] == 'trust').sum()):>13d}")
    big = pr[bins == "4+"]
    all_trust = len(big) > 0 and bool((big["lead_class"] == "trust").all())
    print(f"all projects with 4+ partners led by the trust: {'yes' if all_trust else 'no'}")


if __name__ == "__main__":
    main()
