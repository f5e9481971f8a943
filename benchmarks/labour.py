"""The labour market against its targets, and paired experiments on it (a benchmark script, not a
test): prints the calibration table (model vs targets T7-T10 of the research notes, years 1 and
10), the paired experiments of issue 10 item 3 (synthetic project effects through
``Workforce.set_project_effects``) and P8's ±50 % check.

Usage: python benchmarks/labour.py [n_seeds] [section ...] [key=value ...]

Sections: ``targets`` (nordland and norway), ``experiments``, ``p8`` (default: all). Seeds
1..n_seeds (default 20), 10 years, ``open_call``; ``key=value`` overrides apply to every run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pandas as pd

import helsesim
from helsesim.model import HealthSystem
from helsesim.outcomes import summary

YEARS = 10
DESIGN = "open_call"


class EffectsModel(HealthSystem):
    """A model with synthetic effects on the labour market (``effects(model) -> dict`` of
    ``set_project_effects`` arguments) added every year to what the funded projects do, through
    the door the project portfolio uses, just before the labour market; the runs of a pair differ
    only by the synthetic effect. (Setting them before ``HealthSystem.labour_market`` would not
    do: the portfolio sets the projects' effects there every year and overwrote them.)"""

    effects: Callable[[HealthSystem], dict] | None = None

    def labour_market(self) -> None:
        self.portfolio.labour_effects(self.year)
        if self.effects is not None:
            self.workforce.add_project_effects(**self.effects(self))
        self.workforce.labour_market()


def run(scenario: str, seed: int, effects: Callable | None = None, years: int = YEARS,
        **over: float) -> tuple[HealthSystem, dict, list[dict]]:
    """One run: the model, its summary and its labour statistics per year."""
    model = EffectsModel(helsesim.build_config(scenario, DESIGN, seed=seed, years=years, **over))
    model.effects = effects
    w = model.workforce
    municipal = ~w.is_trust
    small = np.zeros(len(w.employers), dtype=bool)
    large = np.zeros(len(w.employers), dtype=bool)
    for e in w.employers:
        if e.kind == "municipality":
            small[e.employer_index] = e.size_class == "small"
            large[e.employer_index] = e.size_class == "large"
    per_year = [year_statistics(w, municipal, small, large)]
    for _ in range(years):
        staff = w.filled.copy()
        model.step()
        per_year.append(year_statistics(w, municipal, small, large, staff))
    return model, summary(model.table_columns()), per_year


def vacancy(w, rows: np.ndarray, profession: int | None = None) -> float:
    cap = np.round(w.positions[rows])
    staff = w.filled[rows]
    if profession is not None:
        cap, staff = cap[:, profession], staff[:, profession]
    return float(1 - staff.sum() / cap.sum()) if cap.sum() else float("nan")


def year_statistics(w, municipal, small, large, staff_before=None) -> dict:
    """Vacancies by group and profession; flows per staff at the start of the year."""
    trust = w.is_trust
    out = {"vacancy": vacancy(w, np.ones_like(trust)), "vacancy_trust": vacancy(w, trust),
           "vacancy_small": vacancy(w, small), "vacancy_large": vacancy(w, large),
           "vacancy_nurse": vacancy(w, np.ones_like(trust), 0),
           "vacancy_health_worker": vacancy(w, np.ones_like(trust), 2),
           "vacancy_doctor_municipal": vacancy(w, municipal, 1),
           "vacancy_doctor_small": vacancy(w, small, 1),
           "vacancy_doctor_large": vacancy(w, large, 1)}
    if staff_before is None or not w.last:
        return out
    d, f = w.last, list(w.flows.values())
    total = staff_before.sum()

    def flow(name: str) -> float:
        return sum(getattr(x, name) for x in f)

    out.update(
        quits_municipal_nurse=d["quits"][municipal, 0].sum() / staff_before[municipal, 0].sum(),
        quits=d["quits"].sum() / total, exits=d["exits"].sum() / total,
        left_community=flow("left_community") / total,
        entrants_hired=flow("entrants_hired") / np.round(w.positions).sum(),
        between=(flow("trust_to_municipality") + flow("municipality_to_trust")
                 + flow("municipality_to_municipality")),
        hospital_municipality=(flow("trust_to_municipality") + flow("municipality_to_trust"))
        / total, n_exits=flow("exits"))
    return out


#: (statistic, year or "mean", target low, high, source)
TARGETS = [
    ("vacancy", 1, 0.015, 0.05, "T8 year 1, all"),
    ("vacancy_nurse", 1, 0.02, 0.05, "T8 year 1, nurses"),
    ("vacancy_health_worker", 1, np.nan, np.nan, "T8 order: below nurses"),
    ("vacancy_doctor_municipal", 1, 0.02, 0.07, "T8 year 1, municipal doctors"),
    ("vacancy", 10, 0.03, 0.15, "T8 year 10, all (assumed)"),
    ("ratio_small_large", 1, 1.2, 2.5, "T7a years 1-2"),
    ("ratio_small_large", 10, 1.2, 2.5, "T7a year 10"),
    ("ratio_doctor_small_large", 1, 2.0, 8.0, "T7b doctors"),
    ("ratio_doctor_small_large", 10, 2.0, 8.0, "T7b doctors, year 10"),
    ("quits_municipal_nurse", "mean", 0.08, 0.20, "T9a"),
    ("exits", "mean", 0.02, 0.06, "T9b"),
    ("moves_per_exit", "mean", 1.0, np.inf, "T9c (> 1)"),
    ("entrants_pipeline", "mean", 0.025, 0.05, "T10 (graduates, immigrants)"),
    ("entrants_hired", "mean", np.nan, np.nan, "all hired from outside"),
    ("left_community", "mean", np.nan, np.nan, "left for the rest of the country"),
    ("hospital_municipality", "mean", np.nan, np.nan, "trust<->municipality moves (not found)"),
    ("quits", "mean", np.nan, np.nan, "all quits / staff"),
]


def ratio(a: float, b: float) -> float:
    """a / b; inf when b is 0 and a is not (a small/large ratio with a full large class)."""
    return a / b if b else (np.inf if a else np.nan)


def targets(scenario: str, seeds: range, **over: float) -> pd.DataFrame:
    """The calibration table: medians over seeds of each statistic, against its target."""
    cfg = helsesim.build_config(scenario, **over).params.labour
    pipeline = cfg.inflow_rate / max(cfg.inflow_rate + cfg.migration_rate, 1e-12)
    rows = []
    for seed in seeds:
        _, _, years = run(scenario, seed, **over)
        for t, y in enumerate(years):
            y["ratio_small_large"] = ratio(y["vacancy_small"], y["vacancy_large"])
            y["ratio_doctor_small_large"] = ratio(y["vacancy_doctor_small"],
                                                  y["vacancy_doctor_large"])
            if t:
                y["moves_per_exit"] = y["between"] / max(y["n_exits"], 1)
                y["entrants_pipeline"] = y["entrants_hired"] * pipeline
        frame = pd.DataFrame(years[1:])
        row = {}
        for stat, when, *_ in TARGETS:
            row[(stat, when)] = frame[stat].mean() if when == "mean" else years[when].get(stat)
        rows.append(row)
    df = pd.DataFrame(rows)
    table = [{"statistic": s, "year": str(w), "model (median)": df[(s, w)].median(),
              "p10": df[(s, w)].quantile(0.1), "p90": df[(s, w)].quantile(0.9),
              "target": "" if np.isnan(lo) else f"[{lo:g}, {hi:g}]",
              "met": "" if np.isnan(lo) else ("yes" if lo <= df[(s, w)].median() <= hi
                                              else "no"), "source": src}
             for s, w, lo, hi, src in TARGETS]
    return pd.DataFrame(table)


# -- paired experiments: synthetic project effects through the portfolio's door ---------------

def rows_of(model: HealthSystem, predicate: Callable) -> np.ndarray:
    """Employer rows (workforce order) whose employer satisfies ``predicate``."""
    return np.array([predicate(e) for e in model.workforce.employers])


def small(e) -> bool:
    return e.kind == "municipality" and e.size_class == "small"


def effects_retention(share: float, who: Callable = small) -> Callable:
    def effects(model: HealthSystem) -> dict:
        n = len(model.workforce.employers)
        return dict(retention=share * rows_of(model, who), attraction=np.zeros(n))
    return effects


def effects_attraction(gain: float, who: Callable = lambda e: e.kind == "municipality"
                       ) -> Callable:
    def effects(model: HealthSystem) -> dict:
        n = len(model.workforce.employers)
        return dict(retention=np.zeros(n), attraction=gain * rows_of(model, who))
    return effects


def effects_pool(who: Callable = small, with_trust: bool = True) -> Callable:
    """One shared personnel pool per community: its small municipalities (and its trust)."""
    def effects(model: HealthSystem) -> dict:
        w = model.workforce
        n = len(w.employers)
        member = rows_of(model, who) | (w.is_trust if with_trust else False)
        community = np.repeat(np.arange(len(w.starts)),
                              np.diff(np.append(w.starts, n)))
        pools = [np.flatnonzero(member & (community == c)) for c in range(len(w.starts))]
        return dict(retention=np.zeros(n), attraction=np.zeros(n), pools=pools)
    return effects


def effects_placements(per_employer: float, who: Callable = small) -> Callable:
    def effects(model: HealthSystem) -> dict:
        n = len(model.workforce.employers)
        return dict(retention=np.zeros(n), attraction=np.zeros(n),
                    placements=per_employer * rows_of(model, who))
    return effects


def effects_zero(model: HealthSystem) -> dict:
    n = len(model.workforce.employers)
    return dict(retention=np.zeros(n), attraction=np.zeros(n), placements=np.zeros(n),
                pools=[])


def staff_outcomes(model: HealthSystem, result: dict) -> dict:
    w = model.workforce
    return {"staff_fte_small": result["staff_fte_small"],
            "staff_fte_municipal": result["staff_fte_municipal"],
            "staff_community": float(w.filled.sum()),
            "staff_other_municipal": result["staff_fte_municipal"] - result["staff_fte_small"],
            "net_inflow": result["net_inflow"],
            "vacancy_rate_small": result["vacancy_rate_small"],
            "fte_retained": float(np.sum(model.records.years["moves_fte_retained"]))}


EXPERIMENTS: dict[str, Callable] = {
    "retention 0.2, small municipalities": effects_retention(0.2),
    "attraction +0.3, all municipalities": effects_attraction(0.3),
    "attraction +0.3, small municipalities": effects_attraction(0.3, small),
    "pool: small municipalities + trust": effects_pool(),
    "pool: small municipalities only": effects_pool(with_trust=False),
    "placements 3/yr per small municipality": effects_placements(3.0),
}


def paired(effects: Callable, seeds: range, scenario: str = "nordland", **over: float
           ) -> pd.DataFrame:
    """Per seed: the outcome with the effects minus the outcome without (same seed)."""
    rows = []
    for seed in seeds:
        base_model, base, _ = run(scenario, seed, **over)
        model, res, _ = run(scenario, seed, effects, **over)
        a, b = staff_outcomes(base_model, base), staff_outcomes(model, res)
        rows.append({k: b[k] - a[k] for k in a})
    return pd.DataFrame(rows)


def experiments(seeds: range, **over: float) -> None:
    print(f"\n== Paired experiments: nordland, seeds {seeds.start}-{seeds.stop - 1}, "
          f"{DESIGN}, {YEARS} years; effect = with - without, same seed ==")
    keys = ["staff_fte_small", "staff_other_municipal", "staff_community", "net_inflow",
            "vacancy_rate_small", "fte_retained"]
    for name, effects in EXPERIMENTS.items():
        d = paired(effects, seeds, **over)
        print(f"\n{name}")
        print(f"{'outcome':<24} {'median':>9} {'p10':>9} {'p90':>9} {'share > 0':>10}")
        for k in keys:
            print(f"{k:<24} {d[k].median():9.3f} {d[k].quantile(0.1):9.3f} "
                  f"{d[k].quantile(0.9):9.3f} {(d[k] > 0).mean():10.2f}")
    same = all(run("nordland", s, effects_zero, **over)[1] == run("nordland", s, **over)[1]
               for s in seeds)
    print(f"\nzero effects through set_project_effects reproduce the no-project run "
          f"(every summary key, every seed): {'yes' if same else 'NO'}")


# -- P8: vacancies highest in small, remote places ----------------------------------------------

#: The parameters that drive P8, the most direct first.
P8_DRIVERS = ["remoteness_penalty", "size_attraction", "environment_attraction",
              "workload_penalty", "choice_sensitivity", "retention_sensitivity"]


def p8(seeds: range, **over: float) -> None:
    """P8's gap (small minus large vacancy rate, final year) and small/large ratio, medians
    over seeds, at the defaults, at ±50 % of each driver, and with the place terms off."""
    print(f"\n== P8: vacancy_rate_small - vacancy_rate_large, nordland and norway, "
          f"{DESIGN}, year {YEARS}, medians over seeds ==")
    defaults = helsesim.build_config().params.labour
    cases = [("defaults", {})]
    for name in P8_DRIVERS:
        for f in (0.5, 1.5):
            cases.append((f"{name} x{f}", {name: getattr(defaults, name) * f}))
    cases += [("no size, no remoteness", {"size_attraction": 0.0, "remoteness_penalty": 0.0}),
              ("no environment", {"environment_attraction": 0.0}),
              ("no workload", {"workload_penalty": 0.0}),
              ("place, environment and workload off", {
                  "size_attraction": 0.0, "remoteness_penalty": 0.0,
                  "environment_attraction": 0.0, "workload_penalty": 0.0})]
    print(f"{'case':<40} {'nordland gap':>12} {'ratio':>7} {'share>0':>8} "
          f"{'norway gap':>11} {'ratio':>7}")
    for label, extra in cases:
        stats = {}
        for scenario, ss in (("nordland", seeds), ("norway", range(1, 4))):
            gaps, ratios = [], []
            for seed in ss:
                _, res, _ = run(scenario, seed, **{**over, **extra})
                gaps.append(res["vacancy_gap_small_large"])
                ratios.append(ratio(res["vacancy_rate_small"], res["vacancy_rate_large"]))
            stats[scenario] = (np.median(gaps), np.median(ratios), np.mean(np.array(gaps) > 0))
        (ng, nr, ns), (wg, wr, _) = stats["nordland"], stats["norway"]
        print(f"{label:<40} {ng:12.3f} {nr:7.2f} {ns:8.2f} {wg:11.3f} {wr:7.2f}")


def main() -> None:
    args = sys.argv[1:]
    n = int(args.pop(0)) if args and args[0].isdigit() else 20
    over = {k: float(v) for k, v in (a.split("=", 1) for a in args if "=" in a)}
    sections = [a for a in args if "=" not in a] or ["targets", "experiments", "p8"]
    pd.set_option("display.width", 200)
    if "targets" in sections:
        for scenario, k in (("nordland", n), ("norway", max(3, n // 4))):
            print(f"\n== Calibration: {scenario}, seeds 1-{k}, {DESIGN}, {YEARS} years ==")
            print(targets(scenario, range(1, k + 1), **over).to_string(
                index=False, float_format=lambda x: f"{x:.3f}"))
    if "experiments" in sections:
        experiments(range(1, n + 1), **over)
    if "p8" in sections:
        p8(range(1, n + 1), **over)


if __name__ == "__main__":
    main()
