"""Fingerprints of every output table of a fixed set of runs, to show that a change (a speed-up)
leaves the outputs bit-identical.

Usage: python scripts/output_hashes.py [out.json]

Runs ``nordland`` (seeds 1-2) and ``norway`` (seeds 1-2) under each of the five designs (20
runs of 10 years), hashes each table (years, projects, municipalities, communities: values,
column names and dtypes) and the summary (every value's repr), prints one line per run and a
combined hash, and writes them to ``out.json`` if given. Compare two commits with ``diff``.
"""

from __future__ import annotations

import hashlib
import json
import sys

import pandas as pd

import helsesim
from helsesim.model.allocation import DESIGNS

TABLES = ("years", "projects", "municipalities", "communities")
RUNS = [(scenario, design, seed) for scenario in ("nordland", "norway")
        for design in sorted(DESIGNS) for seed in (1, 2)]


def table_hash(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(repr(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def run_hashes(scenario: str, design: str, seed: int) -> dict[str, str]:
    result = helsesim.simulate(scenario, design, seed=seed, years=10)
    out = {t: table_hash(getattr(result, t)) for t in TABLES}
    summary = json.dumps({k: repr(v) for k, v in result.summary.items()}, sort_keys=True)
    out["summary"] = hashlib.sha256(summary.encode()).hexdigest()[:16]
    return out


def main() -> None:
    every = {}
    for scenario, design, seed in RUNS:
        key = f"{scenario}/{design}/{seed}"
        every[key] = run_hashes(scenario, design, seed)
        print(key, " ".join(f"{t}={h}" for t, h in every[key].items()), flush=True)
    combined = hashlib.sha256(json.dumps(every, sort_keys=True).encode()).hexdigest()[:16]
    print("combined", combined)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            json.dump({"runs": every, "combined": combined}, f, indent=1)


if __name__ == "__main__":
    main()
