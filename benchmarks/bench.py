"""Speed of single runs (a benchmark script, not a test): seconds per 10-year run.

Usage: python benchmarks/bench.py [seeds] [rounds]

Each seed's run is timed ``rounds`` times (default 3), in interleaved rounds, and its fastest
time kept, as ``timeit`` advises: slower repeats of the same work measure interference (on a
shared virtual machine the same run can take 1.5x as long a minute later), not the code. The
script prints, per scenario, the median over seeds of those best times, their range, and the
median of every single timing for comparison. ``import mesa`` is outside the timing.

It then prints what the two Mesa pieces that helsesim does not use would cost per run (docs/ODD.md
§2): a ``mesa.discrete_space.Network`` built on the run's graph with every municipality and
trust placed on its cell, and a ``mesa.DataCollector`` whose model reporters relay the year
columns (collected for year 0 and each of the 10 years).
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


def mesa_pieces(scenario: str, repeats: int = 20) -> dict[str, float]:
    """Milliseconds per 10-year run of a Network space and of a relaying DataCollector (best of
    ``repeats``), beside the run itself."""
    import mesa
    from mesa.discrete_space import Network

    from helsesim.model import HealthSystem
    from helsesim.outcomes import YEAR_COLUMNS

    model = HealthSystem(helsesim.build_config(scenario, seed=1, years=10)).run()
    agents = [*model.municipalities, *model.trusts]

    def network() -> None:
        space = Network(model.network.graph, capacity=1, random=model.random)
        for a in agents:
            space[a.node].add_agent(a)

    def collector() -> None:
        dc = mesa.DataCollector(model_reporters={
            c: (lambda m, c=c: m.records.years[c][-1]) for c in YEAR_COLUMNS})
        for _ in range(11):
            dc.collect(model)

    def best(f) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times) * 1e3

    return {"network": best(network), "collector": best(collector),
            "run": best(lambda: HealthSystem(helsesim.build_config(scenario, seed=1)).run())}


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
    print("Mesa pieces not used, ms per 10-year run (best of 20): a Network space built on the "
          "graph with the agents placed, a DataCollector relaying the year columns")
    print(f"{'scenario':<10} {'Network ms':>11} {'collector ms':>13} {'model run ms':>13}")
    for scenario in ("nordland", "norway"):
        c = mesa_pieces(scenario)
        print(f"{scenario:<10} {c['network']:11.2f} {c['collector']:13.2f} {c['run']:13.1f}")


if __name__ == "__main__":
    main()
