"""Speed of single runs (a benchmark script, not a test): prints seconds per 10-year run.

Usage: python benchmarks/bench.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time

import helsesim


def timed(scenario: str, repeats: int) -> list[float]:
    out = []
    for seed in range(1, repeats + 1):
        t = time.perf_counter()
        helsesim.simulate(scenario, "open_call", seed=seed, years=10)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    t = time.perf_counter()
    import mesa  # noqa: F401  (imported once; not part of a run's cost)

    print(f"import mesa: {time.perf_counter() - t:.2f} s")
    helsesim.simulate("nordland", years=1)  # warm-up: data tables, caches
    print(f"{'scenario':<10} {'median s':>9} {'min s':>7} {'max s':>7}  (10-year run, open_call, "
          f"{repeats} seeds)")
    for scenario in ("nordland", "norway"):
        ts = timed(scenario, repeats)
        print(f"{scenario:<10} {statistics.median(ts):9.3f} {min(ts):7.3f} {max(ts):7.3f}")


if __name__ == "__main__":
    main()
