"""Print medians of the pattern outcomes per design over paired seeds (a calibration aid).

Usage: python benchmarks/patterns.py [n_seeds] [scenario] [key=value ...]
"""

from __future__ import annotations

import sys

import pandas as pd

import helsesim
from helsesim.allocation import DESIGNS

KEYS = [  # the summary keys the core-model issue asks for, then the pattern extras
    "gini_benefit_per_capita", "theil_benefit_per_capita", "hoover_benefit",
    "small_representation_ratio", "lead_share_trust", "lead_share_large", "lead_share_small",
    "n_projects", "mean_project_budget", "recruitment_project_share", "task_transfers",
    "task_shift_cost", "uncompensated_task_shift_cost", "vacancy_rate", "vacancy_rate_small",
    "vacancy_rate_large", "vacancy_rate_trust", "mean_trust", "mean_trust_small",
    "mean_tie_strength", "participation_rate_small", "participation_rate_medium",
    "participation_rate_large",
    # extras for P2-P9
    "lead_share_medium", "influence_share_trust", "influence_share_large", "share_high_trust",
    "implementation_rate", "survival_rate", "matthew_correlation", "mean_partners",
    "total_funded", "total_budget",
]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    scenario = sys.argv[2] if len(sys.argv) > 2 else "nordland"
    over = dict(a.split("=", 1) for a in sys.argv[3:])
    over = {k: float(v) for k, v in over.items()}
    rows = []
    for design in DESIGNS:
        for seed in range(1, n + 1):
            s = helsesim.simulate(scenario, design, seed=seed, **over).summary
            rows.append({"design": design, "seed": seed, **s})
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.groupby("design")[KEYS].median().T.round(3).to_string())


if __name__ == "__main__":
    main()
