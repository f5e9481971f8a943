"""Speed of single runs (a benchmark script, not a test): seconds per 10-year run.

Usage: python benchmarks/bench.py [seeds] [rounds]

Each seed's run is timed ``rounds`` times (default 3), in interleaved rounds, and its fastest
time kept, as ``timeit`` advises: slower repeats of the same work measure interference (on a
shared virtual machine the same run can take 1.5x as long a minute later), not the code. The
script prints, per scenario, the median over seeds of those best times, their range, and the
median of every single timing for comparison. ``import mesa`` is outside the timing.
"""

from __future__ import annotations

import statistics
import sys
import time

import helsesim


def timed(scenario: str, seeds: int, rounds: int = 3) -> dict[str, float]:
    """Seconds of a 10-year open-call run: ``best`` (median over seeds of each seed's fastest
    round), ``low``/``high`` (range of those), ``all`` (median of every timing)."""
    times: dict[int, list[float]] = {s: [] for s in range(1, seeds + 1)}
    for _ in range(rounds):
        for seed in times:
            t = time.perf_counter()
            helsesim.simulate(scenario, "open_call", seed=seed, years=10)
            times[seed].append(time.perf_counter() - t)
    best = [min(ts) for ts in times.values()]
    return {"best": statistics.median(best), "low": min(best), "high": max(best),
            "all": statistics.median([t for ts in times.values() for t in ts])}


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    t = time.perf_counter()
    import mesa  # noqa: F401  (imported once; not part of a run's cost)

    print(f"import mesa: {time.perf_counter() - t:.2f} s")
    helsesim.simulate("nordland", years=1)  # warm-up: data tables, caches
    helsesim.simulate("norway", years=1)
    print(f"10-year open_call runs, {seeds} seeds x {rounds} rounds; per seed the fastest round")
    print(f"{'scenario':<10} {'median s':>9} {'min s':>7} {'max s':>7} {'all runs s':>11}")
    for scenario in ("nordland", "norway"):
        r = timed(scenario, seeds, rounds)
        print(f"{scenario:<10} {r['best']:9.3f} {r['low']:7.3f} {r['high']:7.3f} "
              f"{r['all']:11.3f}")


if __name__ == "__main__":
    main()
