"""The decision brief: plain sentences a director can read, computed from an experiment's tables.

Input: the ``summary`` (medians and 90 % intervals per arm), ``differences`` (paired
differences against the baseline) and ``runs`` (one row per run) tables of a job, optionally its
``years`` table (the money left at the end) and what a robustness run of the workbench found.
No model runs here, nothing is read from disk, and every number in a sentence is a cell of one of
those tables or a median, count or plain arithmetic of their cells; each :class:`Line` names its
source.

What the brief says, and the rules behind it:

* **In short**: per arm, on how many headline outcomes it is better or worse than the baseline.
* **Headline outcomes** (those whose metadata says which direction is better): for each, which
  arms beat the baseline in at least :data:`WIN_SHARE` of the paired seeds, by how much (the
  medians of both arms and the median paired difference with its 90 % interval), and which are
  worse in as many. A difference that is that consistent but smaller than
  :data:`NOISE_FRACTION` of the baseline's seed-to-seed spread is called negligible.
* **Null effects.** An arm *changes nothing* when every outcome equals the baseline's in every
  paired seed; it shows *no effect beyond noise* when, on every headline outcome, the 90 %
  interval of the paired differences spans zero and their median is smaller than
  :data:`NOISE_FRACTION` of the baseline's own seed-to-seed spread (its 90 % interval width).
* **Chance.** With few seeds, a null effect passes the :data:`WIN_SHARE` rule by luck (all 3 of 3
  seeds in one direction: 25 %); above 5 % the brief says so.
* **Robustness of rankings.** The seeds are split into two halves (in seed order); an outcome's
  ranking of the arms (by median, best first) is *not robust* when the two halves order the arms
  differently. Where a robustness run of the workbench exists for the same scenario
  (:class:`WorldsCheck`), each win is also checked over its plausible worlds.
* **Money** per arm (medians over seeds): the grant available over the run (``total_budget``),
  what was granted to projects (``total_funded``, ``spent_share``), what is left at the end
  (the final year's ``money_available`` minus ``funded_amount``: it carries over to the next
  year), money that lapsed (available minus granted minus left at the end), and how much the
  open calls were asked for against what they offered (``oversubscription``, from
  ``money_asked`` and ``call_money``).
* **Cost-effectiveness** against the baseline, from the means of the paired differences: an arm
  that spends the same money (within :data:`SAME_MONEY`) is said to gain its municipal FTE and
  Gini points at no extra cost; one that spends more is priced in NOK per FTE gained
  (:data:`STAFF_COLUMN`, filled municipal positions at the end) and NOK per point of Gini (0.01
  of :data:`GINI_COLUMN`), when the gain is clear (in :data:`WIN_SHARE` of the seeds).

A line whose columns are absent is left out rather than guessed. :func:`brief_markdown` returns
the section as markdown for summary.md and the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from helsesim.brief.findings import (
    CHANCE_LIMIT,
    MIN_SPLIT_SEEDS,
    NOISE_FRACTION,
    WIN_SHARE,
    InfoFn,
    Line,
    WorldsCheck,
    chance_flag,
    chance_of_a_call,
    headline_line,
    null_flags,
    short_lines,
    split_flags,
    verdicts,
    worlds_flags,
)
from helsesim.brief.money import (
    GINI_COLUMN,
    LEFT_COLUMNS,
    MONEY_COLUMNS,
    SAME_MONEY,
    STAFF_COLUMN,
    cost_lines,
    left_at_end,
    money_lines,
)
from helsesim.brief.words import change, interval, level, pct, unit_of
from helsesim.outcomes import outcome_info

SEED_NOISE_NOTE = ("The intervals and seed counts are seed noise only: how much the results vary "
                   "between random seeds with every parameter fixed at its value. They do not "
                   "include what is not known about the parameters; for that, "
                   "`helsesim experiment=robustness` runs every design over plausible worlds.")


@dataclass
class Brief:
    """The brief of one experiment, in sections."""

    baseline: str
    arms: list[str]
    n_seeds: int
    short: list[Line] = field(default_factory=list)
    headline: list[Line] = field(default_factory=list)
    flags: list[Line] = field(default_factory=list)
    money: list[Line] = field(default_factory=list)
    cost: list[Line] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        return [ln for ln in (*self.short, *self.headline, *self.flags, *self.money, *self.cost)
                if ln.kind != "note"]

    def markdown(self, heading: str = "## Decision brief") -> str:
        """The brief as a markdown section."""
        out = [heading, ""]
        if len(self.arms) < 2:
            out += [f"Only one arm (`{self.baseline}`): nothing to compare.", "",
                    SEED_NOISE_NOTE, ""]
        else:
            out += [f"Each arm against `{self.baseline}` over {self.n_seeds} paired seeds (the "
                    f"same seeds, hence the same random events, in every arm). An arm is called "
                    f"better or worse on an outcome when it is so in at least "
                    f"{pct(WIN_SHARE)} of the seeds. In brackets: its median, and the median "
                    "difference to the baseline in the same seed with the 5th and 95th "
                    "percentiles of those differences; pp: percentage points.", "",
                    SEED_NOISE_NOTE, ""]
        for title, lines in (("In short", self.short), ("What beats the baseline",
                                                        self.headline),
                             ("Flags", self.flags), ("Money", self.money),
                             ("Cost-effectiveness", self.cost)):
            if lines:
                out += [f"**{title}**", ""]
                for ln in lines:
                    out += [ln.text, ""] if ln.kind == "note" else [f"- {ln.text}"]
                out.append("")
        out.append("*Sources: medians from `summary`, paired differences from `differences`, "
                   "split halves, money and cost from `runs` (money left at the end from "
                   "`years`).*")
        return "\n".join(out) + "\n"


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


def decision_brief(summary: pd.DataFrame, differences: pd.DataFrame, runs: pd.DataFrame,
                   baseline: str | None = None, outcomes: list[str] | None = None,
                   info: InfoFn = outcome_info, years: pd.DataFrame | None = None,
                   worlds: WorldsCheck | None = None) -> Brief:
    """The brief of an experiment from its tables.

    Args:
        summary: ``arm, outcome, n, median, q05, q95`` (:func:`helsesim.results.summarise`).
        differences: ``arm, baseline, outcome, n_pairs, median, q05, q95, share_higher,
            share_lower`` (:func:`helsesim.results.paired_differences`).
        runs: one row per run with ``arm``, ``seed`` (``status`` if any) and outcome columns.
        baseline: the baseline arm (default: the one named in ``differences``).
        outcomes: the outcomes to consider (default: those of ``summary``, in order).
        info: outcome metadata by name (label, unit, scale, ``better``).
        years: ``run_id, arm, year`` and :data:`LEFT_COLUMNS` (the money left at the end).
        worlds: what a robustness run of the same scenario found.
    """
    runs = _ok(runs)
    arms, baseline = _arm_order(summary, differences, runs, baseline)
    others = arms[1:]
    outcomes = outcomes or list(dict.fromkeys(summary["outcome"]))
    headline = [o for o in outcomes if info(o).better in ("lower", "higher")]
    n_seeds = int(runs["seed"].nunique()) if "seed" in runs else 0
    brief = Brief(baseline, arms, n_seeds)
    left = left_at_end(years)
    brief.money = money_lines(runs, arms, left)
    if not others:
        return brief
    verdict = verdicts(headline, others, differences, info, summary, baseline)
    brief.short = short_lines(baseline, others, headline, verdict, info)
    for o in headline:
        line = headline_line(o, info(o), baseline, others, summary, differences)
        if line is not None:
            brief.headline.append(line)
    brief.flags = (chance_flag(n_seeds)
                   + null_flags(baseline, others, headline, summary, differences)
                   + split_flags(runs, arms, headline, info)
                   + (worlds_flags(worlds, baseline, verdict, info) if worlds else []))
    brief.cost = cost_lines(runs, baseline, others)
    return brief


def brief_markdown(tables: Mapping[str, pd.DataFrame], baseline: str | None = None,
                   outcomes: list[str] | None = None, heading: str = "## Decision brief",
                   worlds: WorldsCheck | None = None) -> str:
    """The decision brief of a job's tables (``summary``, ``differences``, ``runs``; ``years``
    when given) as a markdown section, for the top of summary.md and for the app."""
    brief = decision_brief(tables["summary"], tables["differences"], tables["runs"],
                           baseline=baseline, outcomes=outcomes, years=tables.get("years"),
                           worlds=worlds)
    return brief.markdown(heading)


__all__ = ["Brief", "CHANCE_LIMIT", "GINI_COLUMN", "LEFT_COLUMNS", "Line", "MIN_SPLIT_SEEDS",
           "MONEY_COLUMNS", "NOISE_FRACTION", "SAME_MONEY", "SEED_NOISE_NOTE", "STAFF_COLUMN",
           "WIN_SHARE", "WorldsCheck", "brief_markdown", "chance_of_a_call", "change",
           "decision_brief", "interval", "level", "pct", "unit_of"]
