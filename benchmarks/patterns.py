"""Print medians of the pattern outcomes per design over paired seeds (a calibration aid).

Usage: python benchmarks/patterns.py [n_seeds] [scenario] [key=value ...]
"""

from __future__ import annotations

import sys

import pandas as pd

import helsesim
from helsesim.allocation import DESIGNS
from helsesim.reporters import CORE_SUMMARY_KEYS

KEYS = [*CORE_SUMMARY_KEYS,  # the summary keys the core-model issue names; then extras
        "lead_share_medium", "influence_share_trust", "influence_share_large",
        "share_high_trust", "implementation_rate", "survival_rate", "matthew_correlation",
        "mean_partners", "total_funded", "total_budget"]


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
