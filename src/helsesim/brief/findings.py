"""What the brief finds about the arms: who beats the baseline, null effects, rankings that do
not hold in both halves of the seeds or over a robustness run's plausible worlds."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helsesim.brief.words import arm_name, change, interval, level, pct, seeds_of
from helsesim.outcomes import Outcome

WIN_SHARE = 0.8
#: A median paired difference below this fraction of the baseline's 90 % range counts as noise.
NOISE_FRACTION = 0.1
#: Fewest seeds for the split-half check of rankings (two per half).
MIN_SPLIT_SEEDS = 4
#: Arms whose mean paired difference in money granted is within this share of the baseline's

InfoFn = Callable[[str], Outcome]


@dataclass(frozen=True)
class Line:
    """One sentence of the brief, the kind of finding and where its numbers come from."""

    kind: str
    text: str
    source: str


@dataclass(frozen=True)
class WorldsCheck:
    """What a robustness run of the workbench found for the same scenario: the share of its
    plausible worlds in which each design beats the baseline, per outcome."""

    where: str
    n_worlds: int
    baseline: str
    #: ``design, outcome, share`` (share of worlds in which the design beats the baseline).
    shares: pd.DataFrame


def _better_share(row: pd.Series, better: str) -> tuple[float, float]:
    """(share of seeds where the arm is better, share where worse)."""
    if better == "lower":
        return float(row["share_lower"]), float(row["share_higher"])
    return float(row["share_higher"]), float(row["share_lower"])


def _negligible(r: pd.Series, spread: float) -> bool:
    """A median paired difference under :data:`NOISE_FRACTION` of the baseline's seed-to-seed
    spread (when it has one)."""
    return spread > 0 and abs(float(r["median"])) < NOISE_FRACTION * spread


def _spreads(summ: pd.DataFrame, baseline: str) -> pd.Series:
    """The baseline's 90 % range per outcome."""
    base = summ[summ["arm"] == baseline].set_index("outcome")
    return (base["q95"] - base["q05"]).astype(float)


def verdicts(outcomes: list[str], others: list[str], diffs: pd.DataFrame, info: InfoFn,
             summ: pd.DataFrame | None = None, baseline: str | None = None
             ) -> dict[tuple[str, str], str]:
    """``better``, ``worse``, ``negligible`` (better or worse in :data:`WIN_SHARE` of the seeds,
    but by a median under :data:`NOISE_FRACTION` of the baseline's seed-to-seed spread) or
    ``unclear``, per (arm, outcome)."""
    spreads = _spreads(summ, baseline) if summ is not None else pd.Series(dtype=float)
    out = {}
    for o in outcomes:
        d = diffs[diffs["outcome"] == o].set_index("arm")
        for arm in others:
            if arm not in d.index or not d.loc[arm, "n_pairs"]:
                continue
            r = d.loc[arm]
            better, worse = _better_share(r, info(o).better)
            v = "better" if better >= WIN_SHARE else "worse" if worse >= WIN_SHARE else "unclear"
            if v != "unclear" and _negligible(r, float(spreads.get(o, 0.0))):
                v = "negligible"
            out[arm, o] = v
    return out


def short_lines(baseline: str, others: list[str], headline: list[str],
                verdict: dict[tuple[str, str], str], info: InfoFn) -> list[Line]:
    """Per arm, in one sentence: the headline outcomes on which it is better and worse."""
    out = []
    for arm in others:
        seen = [o for o in headline if (arm, o) in verdict]
        if not seen:
            continue
        named = {v: [info(o).label for o in seen if verdict[arm, o] == v]
                 for v in ("better", "worse", "negligible")}
        if not named["better"] and not named["worse"]:
            text = (f"{arm_name(arm)} makes no clear difference to any of the {len(seen)} "
                    "headline outcomes")
        else:
            first, second = ("better", "worse") if named["better"] else ("worse", "better")
            text = (f"{arm_name(arm)} is {first} on {len(named[first])} of {len(seen)} headline "
                    f"outcomes ({'; '.join(named[first])}) and {second} on "
                    + (f"{len(named[second])} ({'; '.join(named[second])})"
                       if named[second] else "none"))
        if named["negligible"]:
            text += (f"; it differs consistently but negligibly on {len(named['negligible'])} "
                     f"({'; '.join(named['negligible'])})")
        out.append(Line("short", text + ".", "differences: share_higher/lower per outcome"))
    if out:
        out.insert(0, Line("note", f"Against {arm_name(baseline)}:", "differences"))
    return out


def _phrase(arm: str, r: pd.Series, median: float, info: Outcome, spread: float
            ) -> tuple[str, str]:
    """(bucket, words) of one arm on one outcome: ``wins``, ``losses``, ``small`` (consistent
    but negligible) or ``unclear``."""
    n = int(r["n_pairs"])
    better, worse = _better_share(r, info.better)
    how = f"{level(median, info)}; difference {interval(r, info)}"
    if max(better, worse) >= WIN_SHARE and _negligible(r, spread):
        word = "better" if better >= WIN_SHARE else "worse"
        return "small", (f"{arm_name(arm)} ({word} in {round(max(better, worse) * n)} of {n}; "
                         f"difference {change(float(r['median']), info)})")
    if better >= WIN_SHARE:
        return "wins", f"{arm_name(arm)} in {seeds_of(round(better * n), n)} ({how})"
    if worse >= WIN_SHARE:
        return "losses", f"{arm_name(arm)} in {seeds_of(round(worse * n), n)} ({how})"
    return "unclear", f"{arm_name(arm)} (better in {round(better * n)} of {n})"


def headline_line(outcome: str, info: Outcome, baseline: str, others: list[str],
                  summ: pd.DataFrame, diffs: pd.DataFrame) -> Line | None:
    """One headline outcome: who is better, worse, negligibly different or not clearly so."""
    d = diffs[diffs["outcome"] == outcome].set_index("arm")
    s = summ[summ["outcome"] == outcome].set_index("arm")
    if baseline not in s.index:
        return None
    spread = float(_spreads(summ, baseline).get(outcome, 0.0))
    buckets: dict[str, list[str]] = {"wins": [], "losses": [], "small": [], "unclear": []}
    for arm in others:
        if arm in d.index and d.loc[arm, "n_pairs"] and arm in s.index:
            bucket, words = _phrase(arm, d.loc[arm], float(s.loc[arm, "median"]), info, spread)
            buckets[bucket].append(words)
    titles = {"wins": "Better", "losses": "Worse",
              "small": f"Consistent but negligible (under {pct(NOISE_FRACTION)} of "
                       f"{arm_name(baseline)}'s seed-to-seed spread)",
              "unclear": "No clear difference"}
    text = (f"**{info.label}** ({info.better} is better; {arm_name(baseline)}: "
            f"{level(float(s.loc[baseline, 'median']), info)}). ")
    text += " ".join(f"{titles[k]}: " + "; ".join(v) + "." for k, v in buckets.items() if v)
    return Line("headline", text,
                f"summary (median, q05, q95) and differences (median, q05, q95, "
                f"share_higher/lower) of {outcome}")


def _within_noise(r: pd.Series, base_row: pd.Series) -> bool:
    spread = float(base_row["q95"] - base_row["q05"])
    return (float(r["q05"]) <= 0.0 <= float(r["q95"])
            and abs(float(r["median"])) <= NOISE_FRACTION * spread)


def null_flags(baseline: str, others: list[str], headline: list[str], summ: pd.DataFrame,
               diffs: pd.DataFrame) -> list[Line]:
    out = []
    base = summ[summ["arm"] == baseline].set_index("outcome")
    for arm in others:
        d = diffs[(diffs["arm"] == arm) & (diffs["n_pairs"] > 0)].set_index("outcome")
        if d.empty:
            continue
        n = int(d["n_pairs"].max())
        if ((d["share_higher"] == 0) & (d["share_lower"] == 0)).all():
            out.append(Line(
                "null", f"⚠ {arm_name(arm)} changes nothing: all {len(d)} outcomes equal "
                f"{arm_name(baseline)}'s in every one of the {n} paired seeds. Check that the "
                "change reaches the model before drawing conclusions.",
                f"differences: share_higher = share_lower = 0 for every outcome of {arm}"))
            continue
        heads = [o for o in headline if o in d.index and o in base.index]
        if heads and all(_within_noise(d.loc[o], base.loc[o]) for o in heads):
            out.append(Line(
                "null", f"⚠ {arm_name(arm)} shows no effect beyond noise on any headline outcome: "
                f"on each of the {len(heads)}, the 90 % interval of paired differences spans "
                f"zero and the median difference is under {pct(NOISE_FRACTION)} of "
                f"{arm_name(baseline)}'s seed-to-seed spread.",
                f"differences (median, q05, q95) of {arm}; summary (q05, q95) of {baseline}"))
    return out


#: A chance above which a win by the :data:`WIN_SHARE` rule could be luck and is said to be so.
CHANCE_LIMIT = 0.05


def chance_of_a_call(n: int) -> float:
    """The chance that an arm with no effect (each paired seed a coin flip, no ties) is called
    better or worse by the :data:`WIN_SHARE` rule with ``n`` seeds."""
    k = math.ceil(WIN_SHARE * n - 1e-9)
    one_side = sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n
    return min(1.0, 2 * one_side)


def chance_flag(n: int) -> list[Line]:
    """A warning when so few seeds are paired that the rule calls a null effect by chance."""
    p = chance_of_a_call(n) if n else 0.0
    if p <= CHANCE_LIMIT:
        return []
    return [Line("chance", f"⚠ With {n} paired seeds, an arm that changes nothing would still be "
                 f"called better or worse on an outcome {pct(p)} of the time (seed-by-seed "
                 "coin flips): treat each single finding as provisional; more seeds "
                 "(`experiment.n_seeds`) make them firm.", "runs: seed count")]


def _ranking(runs: pd.DataFrame, outcome: str, arms: list[str], better: str) -> list[str]:
    med = runs.groupby("arm")[outcome].median()
    present = [a for a in arms if a in med.index and np.isfinite(med[a])]
    sign = 1.0 if better == "lower" else -1.0
    return sorted(present, key=lambda a: (sign * med[a], arms.index(a)))


def split_flags(runs: pd.DataFrame, arms: list[str], headline: list[str],
                info: InfoFn) -> list[Line]:
    """Rankings by median in each half of the seeds: a changed best arm is flagged per outcome;
    changes lower down are listed together (close arms trade places)."""
    seeds = sorted(runs["seed"].unique())
    if len(arms) < 2:
        return []
    if len(seeds) < MIN_SPLIT_SEEDS:
        return [Line("robustness", f"Too few seeds ({len(seeds)}) to check whether the rankings "
                     f"hold in both halves of the seeds (at least {MIN_SPLIT_SEEDS}).",
                     "runs: seed")]
    half = len(seeds) // 2
    first, second = seeds[:half], seeds[half:]
    a, b = runs[runs["seed"].isin(first)], runs[runs["seed"].isin(second)]
    span = f"seeds {first[0]}–{first[-1]}", f"seeds {second[0]}–{second[-1]}"
    robust, reordered, out = [], [], []
    for o in headline:
        if o not in runs:
            continue
        better = info(o).better
        ra, rb = _ranking(a, o, arms, better), _ranking(b, o, arms, better)
        if ra == rb:
            robust.append(info(o).label)
        elif ra[:1] == rb[:1]:
            reordered.append(info(o).label)
        else:
            out.append(Line(
                "not_robust", f"⚠ The best arm on **{info(o).label}** is not robust: "
                f"{arm_name(ra[0])} in {span[0]}, {arm_name(rb[0])} in {span[1]} (medians per "
                "half).",
                f"runs: median of {o} per arm in each half of the seeds"))
    if reordered:
        out.append(Line(
            "not_robust", "The best arm holds in both halves of the seeds, but the arms below it "
            "change places, on: " + "; ".join(reordered) + ". Treat their order as uncertain.",
            "runs: median per arm in each half of the seeds"))
    if robust:
        out.append(Line("robust", f"The whole ranking holds in both halves ({span[0]}; "
                        f"{span[1]}) on: " + "; ".join(robust) + ".",
                        "runs: median per arm in each half of the seeds"))
    return out


def worlds_flags(check: WorldsCheck, baseline: str, verdict: dict[tuple[str, str], str],
                 info: InfoFn) -> list[Line]:
    """Each win or loss of a design arm, checked over the plausible worlds of a robustness run
    (only arms named after a design, against the same baseline design)."""
    if baseline != check.baseline:
        return [Line("worlds", f"A robustness run exists for this scenario ({check.where}), "
                     f"but against `{check.baseline}`, not {arm_name(baseline)}.", check.where)]
    shares = check.shares.set_index(["design", "outcome"])["share"]
    holds, fails = [], []
    for (arm, o), v in verdict.items():
        if v == "unclear" or (arm, o) not in shares.index:
            continue
        share = float(shares[arm, o]) if v == "better" else 1.0 - float(shares[arm, o])
        text = f"{arm_name(arm)} {v} on {info(o).label} ({pct(share)} of worlds)"
        (holds if share >= WIN_SHARE else fails).append(text)
    where = (f"the robustness run `{check.where}` ({check.n_worlds} plausible worlds of the "
             "parameters, same scenario)")
    out = []
    if fails:
        out.append(Line("worlds", f"⚠ Over {where}, these findings do not hold in "
                        f"{pct(WIN_SHARE)} of the worlds: " + "; ".join(fails) + ".",
                        f"{check.where}: share of worlds beating {check.baseline}"))
    if holds:
        out.append(Line("worlds", f"Over {where}, these hold in at least {pct(WIN_SHARE)} of "
                        "the worlds: " + "; ".join(holds) + ".",
                        f"{check.where}: share of worlds beating {check.baseline}"))
    return out
