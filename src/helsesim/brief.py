"""The decision brief: plain sentences a director can read, computed from an experiment's tables.

Input: the ``summary`` (medians and 90 % intervals per arm), ``differences`` (paired
differences against the baseline) and ``runs`` (one row per run) tables of a job, and the
outcome metadata (label, unit, scale, which direction is better). No model runs here, nothing is
read from disk, and every number in a sentence is a cell of one of those tables or a median,
count or plain arithmetic of their cells; each :class:`Line` names its source.

What the brief says, and the rules behind it:

* **Headline outcomes** (those whose metadata says which direction is better): for each, which
  arms beat the baseline in at least :data:`WIN_SHARE` of the paired seeds, by how much (the
  medians of both arms and the median paired difference with its 90 % interval), and which are
  worse in as many.
* **Null effects.** An arm *changes nothing* when every outcome equals the baseline's in every
  paired seed; it shows *no effect beyond noise* when, on every headline outcome, the 90 %
  interval of the paired differences spans zero and their median is smaller than
  :data:`NOISE_FRACTION` of the baseline's own seed-to-seed spread (its 90 % interval width).
* **Robustness of rankings.** The seeds are split into two halves (in seed order); an outcome's
  ranking of the arms (by median, best first) is *not robust* when the two halves order the arms
  differently.
* **Money** available, spent and carried over, per arm (medians over seeds), from the columns in
  :data:`MONEY_COLUMNS` that the runs table has.
* **Cost-effectiveness** against the baseline, as the ratio of mean paired differences: NOK per
  FTE gained (when :data:`STAFF_COLUMN` exists) and NOK per point of Gini (0.01 of the
  :data:`GINI_COLUMN` index).

A line whose columns are absent is left out rather than guessed. :func:`brief_markdown` returns
the section as markdown for summary.md and the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helsesim.outcomes import Outcome, outcome_info

#: Share of paired seeds in which an arm must be better (or worse) than the baseline to be named.
WIN_SHARE = 0.8
#: A median paired difference below this fraction of the baseline's 90 % range counts as noise.
NOISE_FRACTION = 0.1
#: Fewest seeds for the split-half check of rankings (two per half).
MIN_SPLIT_SEEDS = 4
#: Columns of the runs table for the money lines: role -> column (NOK over the run, except
#: ``spent_share``, a share). A line appears only when its columns are in the runs table.
MONEY_COLUMNS = {
    "available": "total_budget",
    "spent": "total_funded",
    "spent_share": "spent_share",
    "carried_over": "carried_over",
}
#: Filled municipal positions at the end of the run (FTE): the denominator of NOK per FTE gained.
STAFF_COLUMN = "staff_fte_municipal"
#: The inequality index whose points (0.01) price NOK per point of Gini.
GINI_COLUMN = "gini_benefit_per_capita"

InfoFn = Callable[[str], Outcome]


@dataclass(frozen=True)
class Line:
    """One sentence of the brief, the kind of finding and where its numbers come from."""

    kind: str
    text: str
    source: str


@dataclass
class Brief:
    """The brief of one experiment, in sections."""

    baseline: str
    arms: list[str]
    n_seeds: int
    headline: list[Line] = field(default_factory=list)
    flags: list[Line] = field(default_factory=list)
    money: list[Line] = field(default_factory=list)
    cost: list[Line] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        return [ln for ln in (*self.headline, *self.flags, *self.money, *self.cost)
                if ln.kind != "note"]

    def markdown(self, heading: str = "## Decision brief") -> str:
        """The brief as a markdown section."""
        out = [heading, ""]
        if len(self.arms) < 2:
            out += [f"Only one arm (`{self.baseline}`): nothing to compare.", ""]
        else:
            out += [f"Each arm against `{self.baseline}` over {self.n_seeds} paired seeds (the "
                    f"same seeds in every arm). An arm is named better or worse when it is so in "
                    f"at least {_pct(WIN_SHARE)} of the seeds; in brackets its median and the "
                    "median paired difference (arm minus baseline, same seed) with the 5th and "
                    "95th percentiles of the differences; pp: percentage points.", ""]
        for title, lines in (("What beats the baseline", self.headline),
                             ("Flags", self.flags), ("Money", self.money),
                             ("Cost-effectiveness", self.cost)):
            if lines:
                out += [f"**{title}**", ""]
                for ln in lines:
                    out += [ln.text, ""] if ln.kind == "note" else [f"- {ln.text}"]
                out.append("")
        out.append("*Sources: medians from `summary`, paired differences from `differences`, "
                   "split halves and money from `runs` (medians over seeds).*")
        return "\n".join(out) + "\n"


# --- numbers in words ---------------------------------------------------------------------------

def _is_share(info: Outcome) -> bool:
    return info.unit.startswith("share") and info.scale == 1.0


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    if abs(x) < 1e-12:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _signed(x: float) -> str:
    s = _num(x)
    return s if s.startswith("-") or s in ("0", "–") else "+" + s


def _unit(info: Outcome) -> str:
    """The unit written after a number, or none when the unit is a description."""
    if _is_share(info):
        return " pp"
    return f" {info.unit}" if info.unit and not any(c in info.unit for c in ":(=") else ""


def level(value: float, info: Outcome, unit: bool = True) -> str:
    """A value of an outcome in its display unit: ``12.6 %``, ``4.87 MNOK/yr``, ``0.329``."""
    if _is_share(info):
        return f"{_num(100 * value)}" + (" %" if unit else "")
    return f"{_num(value * info.scale)}" + (_unit(info) if unit else "")


def unit_of(info: Outcome) -> str:
    """The unit a level is written in (``%`` for shares), or ``""``."""
    return "%" if _is_share(info) else _unit(info).strip()


def change(value: float, info: Outcome, unit: bool = True) -> str:
    """A difference of an outcome, signed: ``+1.2 pp`` (percentage points), ``-0.09``."""
    scale = 100.0 if _is_share(info) else info.scale
    return _signed(value * scale) + (_unit(info) if unit else "")


def interval(row: pd.Series, info: Outcome) -> str:
    """Median paired difference and its 90 % interval: ``-4.31 MNOK/yr [-11, +6.85]``."""
    return (f"{change(float(row['median']), info)} [{change(float(row['q05']), info, False)}, "
            f"{change(float(row['q95']), info, False)}]")


def _mnok(nok: float) -> str:
    return f"{_num(nok / 1e6)} MNOK"


def _spending(nok: float) -> str:
    """A difference in money spent, in words."""
    if nok > 0:
        return f"spends {_mnok(nok)} more"
    if nok < 0:
        return f"spends {_mnok(-nok)} less"
    return "spends the same"


def _arm(a: str) -> str:
    return f"`{a}`"


# --- the brief ---------------------------------------------------------------------------------

def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"] if "status" in runs else runs


def _arm_order(summary: pd.DataFrame, differences: pd.DataFrame, runs: pd.DataFrame,
               baseline: str | None) -> tuple[list[str], str]:
    arms = list(dict.fromkeys(summary["arm"])) if len(summary) else list(
        dict.fromkeys(runs["arm"]))
    if baseline is None:
        baseline = (str(differences["baseline"].iloc[0]) if len(differences)
                    else (arms[0] if arms else ""))
    return [baseline] + [a for a in arms if a != baseline], baseline


def _better_share(row: pd.Series, better: str) -> tuple[float, float]:
    """(share of seeds where the arm is better, share where worse)."""
    if better == "lower":
        return float(row["share_lower"]), float(row["share_higher"])
    return float(row["share_higher"]), float(row["share_lower"])


def _headline(outcome: str, info: Outcome, baseline: str, others: list[str],
              summ: pd.DataFrame, diffs: pd.DataFrame) -> Line | None:
    d = diffs[diffs["outcome"] == outcome].set_index("arm")
    s = summ[summ["outcome"] == outcome].set_index("arm")
    if baseline not in s.index:
        return None
    wins, losses, unclear = [], [], []
    for arm in others:
        if arm not in d.index or not d.loc[arm, "n_pairs"] or arm not in s.index:
            continue
        r = d.loc[arm]
        n = int(r["n_pairs"])
        better, worse = _better_share(r, info.better)
        how = f"{level(float(s.loc[arm, 'median']), info)}; difference {interval(r, info)}"
        if better >= WIN_SHARE:
            wins.append(f"{_arm(arm)} in {round(better * n)} of {n} seeds ({how})")
        elif worse >= WIN_SHARE:
            losses.append(f"{_arm(arm)} in {round(worse * n)} of {n} seeds ({how})")
        else:
            unclear.append(f"{_arm(arm)} (better in {round(better * n)} of {n})")
    text = (f"**{info.label}** ({info.better} is better; {_arm(baseline)}: "
            f"{level(float(s.loc[baseline, 'median']), info)}). ")
    parts = []
    if wins:
        parts.append("Better: " + "; ".join(wins) + ".")
    if losses:
        parts.append("Worse: " + "; ".join(losses) + ".")
    if unclear:
        parts.append("No clear difference: " + "; ".join(unclear) + ".")
    text += " ".join(parts)
    return Line("headline", text,
                f"summary (median) and differences (median, q05, q95, share_higher/lower) of "
                f"{outcome}")


def _within_noise(r: pd.Series, base_row: pd.Series) -> bool:
    spread = float(base_row["q95"] - base_row["q05"])
    return (float(r["q05"]) <= 0.0 <= float(r["q95"])
            and abs(float(r["median"])) <= NOISE_FRACTION * spread)


def _null_flags(baseline: str, others: list[str], headline: list[str], summ: pd.DataFrame,
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
                "null", f"⚠ {_arm(arm)} changes nothing: all {len(d)} outcomes equal "
                f"{_arm(baseline)}'s in every one of the {n} paired seeds. Check that the change "
                "reaches the model before drawing conclusions.",
                f"differences: share_higher = share_lower = 0 for every outcome of {arm}"))
            continue
        heads = [o for o in headline if o in d.index and o in base.index]
        if heads and all(_within_noise(d.loc[o], base.loc[o]) for o in heads):
            out.append(Line(
                "null", f"⚠ {_arm(arm)} shows no effect beyond noise on any headline outcome: "
                f"on each of the {len(heads)}, the 90 % interval of paired differences spans "
                f"zero and the median difference is under {_pct(NOISE_FRACTION)} of "
                f"{_arm(baseline)}'s seed-to-seed spread.",
                f"differences (median, q05, q95) of {arm}; summary (q05, q95) of {baseline}"))
    return out


def _ranking(runs: pd.DataFrame, outcome: str, arms: list[str], better: str) -> list[str]:
    med = runs.groupby("arm")[outcome].median()
    present = [a for a in arms if a in med.index and np.isfinite(med[a])]
    sign = 1.0 if better == "lower" else -1.0
    return sorted(present, key=lambda a: (sign * med[a], arms.index(a)))


def _split_flags(runs: pd.DataFrame, arms: list[str], headline: list[str],
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
                f"{_arm(ra[0])} in {span[0]}, {_arm(rb[0])} in {span[1]} (medians per half).",
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


def _unspent(runs: pd.DataFrame, cols: dict[str, str]) -> pd.Series | None:
    """Money left unspent per arm (median over seeds of available minus spent, per run), when
    the runs table has both but no ``carried_over`` column to say it directly; else None."""
    if "carried_over" in cols or not {"available", "spent"} <= set(cols):
        return None
    return (runs[cols["available"]] - runs[cols["spent"]]).groupby(runs["arm"]).median()


def _money_note(runs: pd.DataFrame, unspent: bool) -> Line:
    """What the money lines are: over the run (its years), medians over seeds."""
    years = int(runs["years"].median()) if "years" in runs else None
    note = "Over the run" + (f" ({years} years)" if years else "") + ", medians over seeds"
    if unspent:
        note += "; unspent = available minus spent, per run"
    return Line("note", note + ".", "runs")


def _money_words(medians: dict[str, float], unspent: float | None) -> list[str]:
    """One arm's money in words, from the medians of the roles its runs table has."""
    words = []
    if "available" in medians:
        words.append(f"{_mnok(medians['available'])} available")
    if "spent" in medians:
        words.append(f"{_mnok(medians['spent'])} spent on projects")
    if "spent_share" in medians:
        words.append(f"{_pct(medians['spent_share'])} of the money available spent")
    if "carried_over" in medians:
        words.append(f"{_mnok(medians['carried_over'])} carried over")
    elif unspent is not None:
        words.append(f"{_mnok(unspent)} unspent")
    return words


def _money(runs: pd.DataFrame, arms: list[str]) -> list[Line]:
    cols = {role: c for role, c in MONEY_COLUMNS.items() if c in runs}
    if not cols:
        return []
    med = runs.groupby("arm")[list(cols.values())].median()
    left = _unspent(runs, cols)
    out = [_money_note(runs, unspent=left is not None)]
    for arm in arms:
        if arm not in med.index:
            continue
        medians = {role: float(med.loc[arm, c]) for role, c in cols.items()}
        words = _money_words(medians, None if left is None else float(left[arm]))
        out.append(Line("money", f"{_arm(arm)}: " + ", ".join(words) + ".",
                        "runs: median of " + ", ".join(cols.values()) + " per arm"))
    return out


def _paired_means(runs: pd.DataFrame, arm: str, baseline: str, columns: list[str]) -> dict:
    """Mean over paired seeds of (arm - baseline) for each column."""
    a = runs[runs["arm"] == arm].set_index("seed")[columns]
    b = runs[runs["arm"] == baseline].set_index("seed")[columns]
    seeds = a.index.intersection(b.index)
    d = a.loc[seeds].astype(float) - b.loc[seeds].astype(float)
    return {c: float(d[c].mean()) for c in columns} | {"n": len(seeds)}


#: Cost-effectiveness lines: (kind, column, gain per unit of the column's change, what a gain
#: is, what no gain is, the unit a NOK figure is per).
EFFECTS = (
    ("cost_fte", STAFF_COLUMN, 1.0, "gains {} municipal FTE", "gains no municipal FTE ({} FTE",
     "FTE gained"),
    ("cost_gini", GINI_COLUMN, -100.0, "lowers the Gini by {} points",
     "does not lower the Gini ({} points", "point of Gini"),
)


def _cost(runs: pd.DataFrame, baseline: str, others: list[str]) -> list[Line]:
    spent = MONEY_COLUMNS["spent"]
    effects = [e for e in EFFECTS if e[1] in runs]
    if spent not in runs or not effects:
        return []
    out = [Line("note", f"Against {_arm(baseline)}: means of the paired differences (arm minus "
                "baseline, same seed) in money spent and in the outcome; a point of Gini is 0.01 "
                "of the index.", "runs")]
    for arm in others:
        for kind, column, factor, gained, none, per in effects:
            m = _paired_means(runs, arm, baseline, [spent, column])
            dm, gain = m[spent], factor * m[column]
            if gain > 0 and dm > 0:
                text = (f"{gained.format(_num(gain))} for {_mnok(dm)} more: "
                        f"**{_mnok(dm / gain)} per {per}**.")
            elif gain > 0:
                text = f"{gained.format(_num(gain))} without spending more ({_spending(dm)})."
            else:
                text = f"{none.format(_signed(abs(factor) * m[column]))}; {_spending(dm)})."
            out.append(Line(kind, f"{_arm(arm)} {text}",
                            f"runs: {m['n']} paired differences of {spent} and {column}"))
    return out


def decision_brief(summary: pd.DataFrame, differences: pd.DataFrame, runs: pd.DataFrame,
                   baseline: str | None = None, outcomes: list[str] | None = None,
                   info: InfoFn = outcome_info) -> Brief:
    """The brief of an experiment from its tables.

    Args:
        summary: ``arm, outcome, n, median, q05, q95``
            (:func:`helsesim.runner.summaries.summarise`).
        differences: ``arm, baseline, outcome, n_pairs, median, q05, q95, share_higher,
            share_lower`` (:func:`helsesim.runner.summaries.paired_differences`).
        runs: one row per run with ``arm``, ``seed`` (``status`` if any) and outcome columns.
        baseline: the baseline arm (default: the one named in ``differences``).
        outcomes: the outcomes to consider (default: those of ``summary``, in order).
        info: outcome metadata by name (label, unit, scale, ``better``).
    """
    runs = _ok(runs)
    arms, baseline = _arm_order(summary, differences, runs, baseline)
    others = arms[1:]
    outcomes = outcomes or list(dict.fromkeys(summary["outcome"]))
    headline = [o for o in outcomes if info(o).better in ("lower", "higher")]
    n_seeds = int(runs["seed"].nunique()) if "seed" in runs else 0
    brief = Brief(baseline, arms, n_seeds)
    if not others:
        brief.money = _money(runs, arms)
        return brief
    for o in headline:
        line = _headline(o, info(o), baseline, others, summary, differences)
        if line is not None:
            brief.headline.append(line)
    brief.flags = (_null_flags(baseline, others, headline, summary, differences)
                   + _split_flags(runs, arms, headline, info))
    brief.money = _money(runs, arms)
    brief.cost = _cost(runs, baseline, others)
    return brief


def brief_markdown(tables: Mapping[str, pd.DataFrame], baseline: str | None = None,
                   outcomes: list[str] | None = None, heading: str = "## Decision brief"
                   ) -> str:
    """The decision brief of a job's tables (``summary``, ``differences``, ``runs``) as a
    markdown section, for the top of summary.md and for the app."""
    brief = decision_brief(tables["summary"], tables["differences"], tables["runs"],
                           baseline=baseline, outcomes=outcomes)
    return brief.markdown(heading)
