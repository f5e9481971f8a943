"""The decision brief from hand-built tables: who beats the baseline, null effects, split-half
robustness, money and cost-effectiveness lines that appear only when their columns exist, and
numbers that trace to the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helsesim import brief
from helsesim.outcomes import Outcome
from helsesim.runner.summaries import paired_differences, summarise

SEEDS = list(range(1, 9))  # eight paired seeds: two halves of four


def make_runs(extra: dict[str, dict[str, list[float]]] | None = None) -> pd.DataFrame:
    """Runs of four arms on eight seeds, by hand.

    * ``base``: the baseline; Gini 0.40 + 0.01 * seed, vacancy 0.10.
    * ``fairer``: Gini 0.10 lower in every seed; vacancy as base.
    * ``same``: identical to base in every outcome and seed.
    * ``noisy``: +-0.001 around base on Gini (a tenth of base's spread is ~0.0066).
    """
    rows = []
    for arm in ("base", "fairer", "same", "noisy"):
        for i, seed in enumerate(SEEDS):
            gini = 0.40 + 0.01 * seed
            if arm == "fairer":
                gini -= 0.10
            if arm == "noisy":
                gini += 0.001 * (1 if i % 2 else -1)
            row = dict(run_id=len(rows), arm=arm, seed=seed, status="ok", years=10,
                       gini_benefit_per_capita=gini, vacancy_rate=0.10 + 0.002 * seed)
            for col, by_arm in (extra or {}).items():
                if arm in by_arm:
                    row[col] = by_arm[arm][i]
            rows.append(row)
    return pd.DataFrame(rows)


OUTCOMES = ["gini_benefit_per_capita", "vacancy_rate"]


def tables(runs: pd.DataFrame, baseline: str = "base") -> dict[str, pd.DataFrame]:
    arms = list(dict.fromkeys(runs["arm"]))
    return {"runs": runs, "summary": summarise(runs, OUTCOMES, arms),
            "differences": paired_differences(runs, OUTCOMES, arms, baseline)}


def make_brief(runs: pd.DataFrame) -> brief.Brief:
    t = tables(runs)
    return brief.decision_brief(t["summary"], t["differences"], t["runs"])


def texts(lines: list[brief.Line], kind: str | None = None) -> list[str]:
    return [ln.text for ln in lines if kind is None or ln.kind == kind]


def test_an_arm_better_in_every_seed_is_named_with_its_numbers():
    b = make_brief(make_runs())
    assert b.baseline == "base" and b.arms == ["base", "fairer", "same", "noisy"]
    gini = next(t for t in texts(b.headline) if "Gini" in t)
    # medians: base 0.445, fairer 0.345; paired difference -0.1 in all 8 seeds
    assert "`base`: 0.445" in gini
    assert "Better: `fairer` in 8 of 8 seeds (0.345; difference -0.1 [-0.1, -0.1])" in gini
    assert "No clear difference: `same` (better in 0 of 8); `noisy` (better in 4 of 8)" in gini
    vac = next(t for t in texts(b.headline) if "Vacancy" in t)
    assert "Better:" not in vac and "10.9 %" in vac  # a share in per cent


def test_worse_in_most_seeds_is_said():
    runs = make_runs()
    runs.loc[runs["arm"] == "same", "vacancy_rate"] += 0.01  # higher vacancy: worse
    b = make_brief(runs)
    vac = next(t for t in texts(b.headline) if "Vacancy" in t)
    assert "Worse: `same` in 8 of 8 seeds" in vac and "+1 pp" in vac


def test_below_the_win_share_is_not_a_win():
    runs = make_runs()
    sel = (runs["arm"] == "fairer") & runs["seed"].isin([1, 2])
    runs.loc[sel, "gini_benefit_per_capita"] += 0.2  # worse in 2 of 8: better in 75 % < 80 %
    gini = next(t for t in texts(make_brief(runs).headline) if "Gini" in t)
    assert "`fairer` in" not in gini and "No clear difference: `fairer` (better in 6 of 8)" in gini


def test_null_effects_are_flagged():
    flags = texts(make_brief(make_runs()).flags, "null")
    assert any(t.startswith("⚠ `same` changes nothing") and "every one of the 8 paired seeds"
               in t for t in flags), flags
    assert any(t.startswith("⚠ `noisy` shows no effect beyond noise") for t in flags), flags
    assert not any("`fairer`" in t for t in flags)


def test_a_real_effect_is_not_noise():
    runs = make_runs()
    runs.loc[runs["arm"] == "noisy", "gini_benefit_per_capita"] += 0.02  # 3x the noise bar
    flags = texts(make_brief(runs).flags, "null")
    assert not any("`noisy`" in t for t in flags), flags


def test_a_best_arm_that_changes_between_halves_is_flagged():
    runs = make_runs()
    # on vacancy: `fairer` best in seeds 1-4, `noisy` best in seeds 5-8
    first = runs["seed"] <= 4
    runs.loc[(runs["arm"] == "fairer") & first, "vacancy_rate"] -= 0.05
    runs.loc[(runs["arm"] == "noisy") & ~first, "vacancy_rate"] -= 0.05
    b = make_brief(runs)
    flags = texts(b.flags, "not_robust")
    assert any("best arm on **Vacancy rate" in t and "`fairer` in seeds 1–4" in t
               and "`noisy` in seeds 5–8" in t for t in flags), flags
    robust = texts(b.flags, "robust")
    assert robust and "Gini" in robust[0] and "Vacancy" not in robust[0]


def test_too_few_seeds_for_a_split_is_said():
    runs = make_runs()
    runs = runs[runs["seed"] <= 3]
    flags = texts(make_brief(runs).flags, "robustness")
    assert flags == ["Too few seeds (3) to check whether the rankings hold in both halves of the "
                     "seeds (at least 4)."]


def test_no_money_or_cost_lines_without_their_columns():
    b = make_brief(make_runs())
    assert b.money == [] and b.cost == []
    md = b.markdown()
    assert "**Money**" not in md and "Cost-effectiveness" not in md


MONEY = {
    "total_budget": {a: [100e6] * 8 for a in ("base", "fairer", "same", "noisy")},
    "total_funded": {"base": [80e6] * 8, "fairer": [90e6] * 8, "same": [80e6] * 8,
                     "noisy": [80e6] * 8},
}


def test_money_lines_from_the_columns_there_are():
    b = make_brief(make_runs(MONEY))
    money = texts(b.money, "money")
    assert money[0] == ("`base`: 100 MNOK available; 80 MNOK granted to projects; 20 MNOK not "
                        "granted by the end.")
    assert money[1].startswith("`fairer`: 100 MNOK available; 90 MNOK granted")
    assert "the same grant (100 MNOK)" in b.money[0].text  # the note: designs on equal money


def final_years(runs: pd.DataFrame, available: float, granted: float) -> pd.DataFrame:
    """A years table with every run's final year: money available and granted in it."""
    return pd.DataFrame({"run_id": runs["run_id"], "arm": runs["arm"], "year": 10,
                         "money_available": available, "funded_amount": granted})


def test_money_left_at_the_end_and_lapsed_from_the_years_table():
    all_arms = ("base", "fairer", "same", "noisy")
    runs = make_runs({**MONEY, "spent_share": {a: [0.8] * 8 for a in all_arms},
                      "oversubscription": {a: [1.5] * 8 for a in all_arms}})
    t = tables(runs)
    # 20 MNOK not granted over the run: 15 left at the end of the final year, 5 lapsed
    b = brief.decision_brief(t["summary"], t["differences"], runs,
                             years=final_years(runs, 25e6, 10e6))
    assert texts(b.money, "money")[0] == (
        "`base`: 100 MNOK available; 80 MNOK granted to projects (80 %); 15 MNOK left at the "
        "end; 5 MNOK lapsed; its open calls were asked for 1.5 times the money they offered.")
    # all of it left at the end: nothing lapsed, and no line says so
    b = brief.decision_brief(t["summary"], t["differences"], runs,
                             years=final_years(runs, 30e6, 10e6))
    assert "lapsed" not in texts(b.money, "money")[0]


def test_nok_per_point_of_gini():
    cost = texts(make_brief(make_runs(MONEY)).cost, "cost")
    # fairer: -0.10 Gini = 10 points for 10 MNOK more: 1 MNOK per point
    assert cost[0] == ("`fairer`, with 10 MNOK more: a Gini 10 points lower (better in 8 of 8): "
                       "**1 MNOK per point of Gini**.")
    assert cost[1] == ("`same`, with the same money (difference 0 MNOK): the same Gini (better "
                       "in 0 of 8).")
    assert "FTE" not in " ".join(cost)  # no staff column


def test_nok_per_fte_gained_when_staff_is_counted():
    staff = {"staff_fte_municipal": {"base": [500.0] * 8, "fairer": [520.0] * 8,
                                     "same": [500.0] * 8, "noisy": [490.0] * 8}}
    b = make_brief(make_runs({**MONEY, **staff}))
    cost = texts(b.cost, "cost")
    assert cost[0].startswith("`fairer`, with 10 MNOK more: +20 municipal FTE filled at the end "
                              "(better in 8 of 8): **0.5 MNOK per FTE gained**; a Gini 10 points")
    assert cost[2].startswith("`noisy`, with the same money (difference 0 MNOK): -10 municipal "
                              "FTE filled at the end (better in 0 of 8)")
    md = b.markdown()
    assert "**Cost-effectiveness**" in md and "0.5 MNOK per FTE gained" in md


def test_gains_at_the_same_money_or_unclear_gains_are_not_priced():
    same_money = {**MONEY, "total_funded": {a: [80e6] * 8 for a in
                                            ("base", "fairer", "same", "noisy")}}
    cost = texts(make_brief(make_runs(same_money)).cost, "cost")
    assert cost[0] == ("`fairer`, with the same money (difference 0 MNOK): a Gini 10 points "
                       "lower (better in 8 of 8).")
    # more money, but more staff in only 4 of 8 seeds: no price per FTE
    staff = {"staff_fte_municipal": {"base": [500.0] * 8, "fairer": [530.0, 490.0] * 4,
                                     "same": [500.0] * 8, "noisy": [500.0] * 8}}
    cost = texts(make_brief(make_runs({**MONEY, **staff})).cost, "cost")
    assert "(better in 4 of 8);" in cost[0] and "per FTE" not in cost[0]


def worlds(shares: dict[tuple[str, str], float], baseline: str = "base") -> brief.WorldsCheck:
    return brief.WorldsCheck("results/robustness/t", 64, baseline, pd.DataFrame(
        [dict(design=d, outcome=o, share=v) for (d, o), v in shares.items()]))


def test_wins_are_checked_over_a_robustness_run_of_the_same_scenario():
    t = tables(make_runs())
    gini = "gini_benefit_per_capita"
    b = brief.decision_brief(t["summary"], t["differences"], t["runs"],
                             worlds=worlds({("fairer", gini): 0.9}))
    ok = texts(b.flags, "worlds")
    assert ok == ["Over the robustness run `results/robustness/t` (64 plausible worlds of the "
                  "parameters, same scenario), these hold in at least 80 % of the worlds: "
                  "`fairer` better on Gini of RS benefit per inhabitant (90 % of worlds)."]
    b = brief.decision_brief(t["summary"], t["differences"], t["runs"],
                             worlds=worlds({("fairer", gini): 0.55}))
    assert texts(b.flags, "worlds")[0].startswith("⚠ Over the robustness run")
    b = brief.decision_brief(t["summary"], t["differences"], t["runs"],
                             worlds=worlds({("fairer", gini): 0.9}, baseline="other"))
    assert "against `other`, not `base`" in texts(b.flags, "worlds")[0]


def test_a_consistent_but_tiny_difference_is_called_negligible():
    runs = make_runs()
    # 0.0001 lower Gini in every seed: under a tenth of base's spread (~0.066 over 8 seeds)
    runs.loc[runs["arm"] == "noisy", "gini_benefit_per_capita"] = (
        runs.loc[runs["arm"] == "base", "gini_benefit_per_capita"].to_numpy() - 0.0001)
    b = make_brief(runs)
    gini = next(t for t in texts(b.headline) if "Gini" in t)
    assert ("Consistent but negligible (under 10 % of `base`'s seed-to-seed spread): `noisy` "
            "(better in 8 of 8; difference -0.0001)") in gini
    assert "Better: `fairer`" in gini and "`noisy` in 8 of 8" not in gini
    short = next(t for t in texts(b.short, "short") if t.startswith("`noisy`"))
    assert short == ("`noisy` makes no clear difference to any of the 2 headline outcomes; it "
                     "differs consistently but negligibly on 1 (Gini of RS benefit per "
                     "inhabitant).")


def test_in_short_counts_wins_and_losses_per_arm():
    runs = make_runs()
    runs.loc[runs["arm"] == "same", "vacancy_rate"] += 0.01  # worse in every seed
    short = texts(make_brief(runs).short, "short")
    assert short[0] == ("`fairer` is better on 1 of 2 headline outcomes (Gini of RS benefit per "
                        "inhabitant) and worse on none.")
    assert short[1].startswith("`same` is worse on 1 of 2 headline outcomes (Vacancy rate")
    assert short[1].endswith(") and better on none.")
    assert short[2] == "`noisy` makes no clear difference to any of the 2 headline outcomes."


@pytest.mark.parametrize("share,expected", [(0.997, "99.7 %"), (0.99996, "99.9 %"),
                                            (1.0, "100 %"), (0.0004, "0.1 %"), (0.0, "0 %"),
                                            (0.8, "80 %")])
def test_shares_that_are_not_all_or_nothing_do_not_read_so(share, expected):
    assert brief.pct(share) == expected


def test_failed_runs_are_left_out():
    runs = make_runs(MONEY)
    bad = runs.index[(runs["arm"] == "base") & (runs["seed"] == 1)]
    runs.loc[bad, "status"] = "failed"
    runs.loc[bad, "total_funded"] = 0.0  # a failed run's value must not enter the medians
    b = brief.decision_brief(*(tables(runs)[k] for k in ("summary", "differences")), runs)
    assert b.n_seeds == 8
    assert texts(b.money, "money")[0].startswith("`base`: 100 MNOK available; 80 MNOK granted")


def test_one_arm_has_nothing_to_compare():
    runs = make_runs()
    runs = runs[runs["arm"] == "base"]
    md = brief.brief_markdown(tables(runs))
    assert md.startswith("## Decision brief\n") and "nothing to compare" in md


def test_markdown_section_of_a_job():
    md = brief.brief_markdown(tables(make_runs(MONEY)))
    assert md.startswith("## Decision brief")
    for part in ("**What beats the baseline**", "**Flags**", "**Money**",
                 "**Cost-effectiveness**", "*Sources:"):
        assert part in md


@pytest.mark.parametrize("value,unit,expected", [
    (0.126, "share of positions", "12.6 %"),
    (4.87e6, "MNOK/yr", "4.87 MNOK/yr"),
    (0.329, "Gini: 0 = equal, 1 = one gets all", "0.329"),
    (0.0, "trust (0-1)", "0"),
])
def test_levels_in_words(value, unit, expected):
    info = Outcome("x", "x", unit, "neither", "run", lambda _: None,
                   scale=1e-6 if unit.startswith("MNOK") else 1.0)
    assert brief.level(value, info) == expected


def test_every_number_of_a_headline_traces_to_the_tables():
    """Each number printed in the Gini sentence is a median, quantile or count of the tables."""
    t = tables(make_runs())
    b = brief.decision_brief(t["summary"], t["differences"], t["runs"])
    gini = next(t for t in texts(b.headline) if "Gini" in t)
    s = t["summary"].query("outcome == 'gini_benefit_per_capita'")
    d = t["differences"].query("outcome == 'gini_benefit_per_capita' and arm == 'fairer'")
    allowed = {f"{v:.3g}" for v in np.concatenate([s[["median", "q05", "q95"]].to_numpy().ravel(),
                                                   d[["median", "q05", "q95"]].to_numpy().ravel(),
                                                   np.abs(d[["median", "q05", "q95"]]
                                                          ).to_numpy().ravel()])}
    dg = t["differences"].query("outcome == 'gini_benefit_per_capita'")
    counts = pd.concat([dg["share_higher"], dg["share_lower"]]) * 8
    allowed |= {str(round(c)) for c in counts} | {"8", "80"}  # seed counts and the 80 % rule
    import re
    numbers = re.findall(r"\d+\.?\d*", gini.replace("`fairer`", "").replace("`base`", ""))
    assert numbers and set(numbers) <= allowed, set(numbers) - allowed


def test_few_seeds_say_a_finding_may_be_chance():
    """With 3 seeds, all 3 in one direction happens a quarter of the time without any effect;
    with 30 the rule is firm and nothing is said."""
    assert brief.chance_of_a_call(3) == pytest.approx(0.25)
    assert brief.chance_of_a_call(30) < 0.01
    runs = make_runs()
    few = make_brief(runs[runs["seed"] <= 3])
    assert texts(few.flags, "chance")[0].startswith("⚠ With 3 paired seeds, an arm that changes "
                                                   "nothing would still be called better or "
                                                   "worse on an outcome 25 % of the time")
    assert texts(make_brief(make_runs()).flags, "chance")  # 8 seeds: 7 %
    many = pd.concat([make_runs().assign(seed=lambda df, k=k: df["seed"] + 8 * k)
                      for k in range(4)], ignore_index=True)  # 32 paired seeds
    assert not texts(make_brief(many).flags, "chance")
