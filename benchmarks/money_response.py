"""Does money buy something? Paired-seed experiments of issue 10's "done when" (a benchmark
script, not a test; the tests in tests/test_money.py hold the directions).

Usage: python benchmarks/money_response.py [n_seeds] [scenario]

For seeds 1..n_seeds (default 20), scenario ``nordland`` by default, 10 years, it prints per
design:

* doubling ``national_budget``: the change of municipal staff (filled FTE of the
  municipalities in the final year: ``staff_fte_municipal`` when the summary has it, else
  summed from the municipalities table) and of ``retention_fte_years`` (staff-years whose
  quit hazard projects removed), as the median paired difference, its standard deviation
  over seeds and the share of seeds in which it is positive;
* a recruitment earmark of 0.5: the same for the small municipalities' staff and for
  ``vacancy_rate_small``;
* 10 % against 100 % of the budget: how many summary keys differ;
* the share of the money spent (``spent_share``) and the open call's ``oversubscription``.
"""

from __future__ import annotations

import sys

import numpy as np

import helsesim
from helsesim.model.allocation import DESIGNS

YEARS = 10
PROFESSIONS = ("filled_nurse", "filled_doctor", "filled_health_worker")


def staff(result: helsesim.Result, size: str | None = None) -> float:
    """Filled municipal FTE in the final year (of one size class if given)."""
    key = "staff_fte_municipal" if size is None else f"staff_fte_{size}"
    if key in result.summary:
        return float(result.summary[key])
    m = result.municipalities
    m = m[m["year"] == m["year"].max()]
    if size is not None:
        m = m[m["size_class"] == size]
    return float(m[list(PROFESSIONS)].to_numpy().sum())


def paired(a: list[float], b: list[float]) -> str:
    """Median, standard deviation and share positive of the paired differences a - b (the
    SD measures how well the paired runs share their randomness: common random numbers)."""
    d = np.asarray(a) - np.asarray(b)
    return (f"median diff {np.median(d):+9.3f}, sd {np.std(d, ddof=1):8.3f}, "
            f"positive in {np.mean(d > 0):4.0%} of seeds")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    scenario = sys.argv[2] if len(sys.argv) > 2 else "nordland"
    seeds = range(1, n + 1)
    national = helsesim.build_config(scenario).scenario.national_budget

    def runs(design: str, **over: float) -> list[helsesim.Result]:
        return [helsesim.simulate(scenario, design, seed=s, years=YEARS, **over)
                for s in seeds]

    print(f"{scenario}, seeds 1-{n}, {YEARS} years: paired differences (alternative - base)")
    for design in DESIGNS:
        base = runs(design)
        double = runs(design, national_budget=2 * national)
        earmark = runs(design, recruitment_earmark=0.5)
        tenth = runs(design, national_budget=0.1 * national)
        print(f"\n== {design} ==")
        spent = np.median([r.summary["spent_share"] for r in base])
        print(f"spent_share (median)           {spent:.3f}")
        over = [r.summary["oversubscription"] for r in base]
        if not np.all(np.isnan(over)):
            print(f"oversubscription (median)      {np.nanmedian(over):.3f}")

        def line(label: str, alt: list[helsesim.Result], key: str,
                 base: list[helsesim.Result] = base) -> None:
            print(f"  {label:<28} "
                  f"{paired([r.summary[key] for r in alt], [r.summary[key] for r in base])}")

        print("2 x national_budget:")
        print(f"  {'municipal staff (FTE)':<28} "
              f"{paired([staff(r) for r in double], [staff(r) for r in base])}")
        line("retention_fte_years", double, "retention_fte_years")
        line("vacancy_rate", double, "vacancy_rate")
        print("recruitment_earmark 0.5:")
        print(f"  {'small municipalities staff':<28} "
              f"{paired([staff(r, 'small') for r in earmark], [staff(r, 'small') for r in base])}")
        line("vacancy_rate_small", earmark, "vacancy_rate_small")
        line("retention_fte_years", earmark, "retention_fte_years")
        same = [sum(1 for k, v in a.summary.items()
                    if not (v == b.summary[k] or (v != v and b.summary[k] != b.summary[k])))
                for a, b in zip(tenth, base, strict=True)]
        print(f"10 % vs 100 % of the budget: summary keys that differ, median over seeds "
              f"{np.median(same):.0f} of {len(base[0].summary)}")


if __name__ == "__main__":
    main()
